"""The enterprise username each identity provider's claims give (sso/claims.py)."""

import pytest

from sso.claims import identity_from_claims

ISS = "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0"


def token(**claims) -> dict:
    return {"iss": ISS, "sub": "s-1", **claims}


@pytest.mark.parametrize(("provider", "id_token", "userinfo", "username", "claim"), [
    # Entra ID: preferred_username is in the ID token only.
    ("azure_ad", token(preferred_username="Erin@Contoso.example"), {"sub": "s-1"},
     "erin@contoso.example", "preferred_username"),
    ("azure_ad", token(upn="erin@contoso.example"), {"sub": "s-1"}, "erin@contoso.example", "upn"),
    ("azure_ad", token(preferred_username="erin@contoso.example", email="boss@contoso.example",
                       email_verified=True), {}, "erin@contoso.example", "preferred_username"),
    # An e-mail address is the username only when the provider says it is verified.
    ("azure_ad", token(email="erin@contoso.example"), {"sub": "s-1"}, "", ""),
    ("azure_ad", token(email="erin@contoso.example", email_verified="true"), {}, "", ""),
    ("azure_ad", token(email="erin@contoso.example", email_verified=True), {}, "erin@contoso.example",
     "email"),
    # Okta: preferred_username (the Okta login), in either document; the signed ID token first.
    ("okta", token(), {"sub": "s-1", "preferred_username": "frank@initech.example"},
     "frank@initech.example", "preferred_username"),
    ("okta", token(preferred_username="frank@initech.example"),
     {"sub": "s-1", "preferred_username": "other@initech.example"}, "frank@initech.example",
     "preferred_username"),
    ("okta", token(upn="frank@initech.example"), {}, "", ""),  # Okta has no upn
    ("okta", {"iss": ISS, "sub": "s-1", "preferred_username": " ＦＲＡＮＫ@initech.example "}, {},
     "frank@initech.example", "preferred_username"),
    ("okta", token(preferred_username=["not", "a", "string"]), {}, "", ""),
])
def test_the_enterprise_username_comes_from_the_providers_claims(provider, id_token, userinfo, username,
                                                                 claim):
    identity = identity_from_claims(provider, id_token=id_token, userinfo=userinfo)
    assert (identity.username, identity.username_claim) == (username, claim)
    assert (identity.issuer, identity.subject) == (ISS, "s-1")
