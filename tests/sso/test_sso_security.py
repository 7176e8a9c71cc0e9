"""SECURITY.md 11 and 17-22: Single Sign On refuses what it must, against real OpenID Connect providers."""

import base64
import hashlib
import hmac
import json
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from allauth.socialaccount.models import SocialAccount, SocialApp
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client

from accounts.models import AuditEvent, MitelAccount
from sso.models import LinkedIdentity
from tests.factories import LockoutFactory, MembershipFactory, UserFactory

from .oidc import (
    ERIN_SUB,
    FRANK_SUB,
    authorize,
    come_back,
    enter_username,
    press_single_sign_on,
    sign_in_with_sso,
    signed_in_user_id,
    stay_signed_in,
)

pytestmark = pytest.mark.django_db

ERIN = "erin@contoso.example"
FRANK = "frank@initech.example"


def refusal(kind: str = AuditEvent.Kind.SSO_ERROR) -> AuditEvent:
    return AuditEvent.objects.get(kind=kind)


def contoso_member(username: str):
    return MembershipFactory(user=UserFactory(username=username),
                             account=MitelAccount.objects.get(account_number="100003")).user


# --- 11. Lockout and deactivation apply to SSO too ----------------------------------------------

def test_sso_sign_in_of_a_locked_out_user_is_refused(client, sso):
    LockoutFactory(key=ERIN)
    response = sign_in_with_sso(client, ERIN, ERIN_SUB)
    assert response.status_code == 403 and "Your sign-in is locked" in response.content.decode()
    event = refusal(AuditEvent.Kind.SIGN_IN_FAILED)
    assert (event.detail["reason"], event.method) == ("locked_out", "azure_ad")
    assert signed_in_user_id(client) is None
    assert client.get("/signin/stay/")["Location"] != "/me/"


def test_sso_sign_in_of_a_deactivated_user_is_refused(client, sso):
    sso.users[ERIN].__class__.objects.filter(username=ERIN).update(is_active=False)
    response = sign_in_with_sso(client, ERIN, ERIN_SUB)
    assert response.status_code == 403 and "deactivated" in response.content.decode()
    assert refusal(AuditEvent.Kind.SIGN_IN_FAILED).detail["reason"] == "inactive"
    assert signed_in_user_id(client) is None


# --- 17. state, code and nonce --------------------------------------------------------------------

def with_query(url: str, **changes) -> str:
    parts = urlsplit(url)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    query = {key: value for key, value in (query | changes).items() if value is not None}
    return f"{parts.scheme}://{parts.netloc}{parts.path}?{urlencode(query)}"


@pytest.mark.parametrize("state", [None, "", "altered"])
def test_a_missing_or_altered_state_is_refused(client, sso, state):
    enter_username(client, ERIN)
    back = authorize(press_single_sign_on(client), ERIN_SUB)
    real = parse_qs(urlsplit(back).query)["state"][0]
    response = come_back(client, with_query(back, state=real + "x" if state == "altered" else state))
    assert response.status_code == 400 and "This sign-in has expired" in response.content.decode()
    assert refusal().detail["check"] == "state"
    assert signed_in_user_id(client) is None


def test_a_replayed_callback_is_refused(client, sso):
    enter_username(client, ERIN)
    back = authorize(press_single_sign_on(client), ERIN_SUB)
    assert come_back(client, back)["Location"] == "/signin/stay/"
    stay_signed_in(client)
    replay = Client()
    enter_username(replay, ERIN)
    press_single_sign_on(replay)
    response = come_back(replay, back)
    assert response.status_code == 400 and refusal().detail["check"] == "state"
    assert signed_in_user_id(replay) is None


def test_a_used_code_is_refused_even_with_a_fresh_state(client, sso):
    enter_username(client, ERIN)
    first = authorize(press_single_sign_on(client), ERIN_SUB)
    assert come_back(client, first)["Location"] == "/signin/stay/"
    attacker = Client()
    enter_username(attacker, ERIN)
    fresh = authorize(press_single_sign_on(attacker), ERIN_SUB)
    used_code = parse_qs(urlsplit(first).query)["code"][0]
    response = come_back(attacker, with_query(fresh, code=used_code))
    assert response.status_code == 400
    assert "could not verify the answer" in response.content.decode()
    assert refusal().detail["reason"] == "invalid_response"
    assert signed_in_user_id(attacker) is None


def test_an_id_token_for_another_nonce_is_refused(client, sso):
    enter_username(client, ERIN)
    # The provider is asked with another nonce: the ID token it issues is not for this sign-in.
    back = authorize(press_single_sign_on(client), ERIN_SUB, nonce="nonce-of-another-sign-in")
    response = come_back(client, back)
    assert response.status_code == 400 and refusal().detail["check"] == "nonce"
    assert signed_in_user_id(client) is None and not LinkedIdentity.objects.exists()


# --- 18. The ID token itself ----------------------------------------------------------------------

def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(token) -> str:
    header = {"alg": "none", "kid": token.header["kid"], "typ": "JWT"}
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(token.claims).encode())}."


def hs256_with_the_public_key(token) -> str:
    """Key confusion: HMAC keyed with the provider's public key, which anyone can fetch."""
    secret = token.provider_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    header = {"alg": "HS256", "kid": token.header["kid"], "typ": "JWT"}
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(token.claims).encode())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def another_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def altered_without_resigning(token) -> str:
    header, _payload, signature = token.signed().split(".")
    claims = {**token.claims, "preferred_username": "grace@acme.example"}
    return f"{header}.{b64(json.dumps(claims).encode())}.{signature}"


ID_TOKEN_EDITS = {
    "issuer": lambda t: t.signed({**t.claims, "iss": "https://login.microsoftonline.com/another/v2.0"}),
    "audience": lambda t: t.signed({**t.claims, "aud": ["another-client"]}),
    "several audiences, no azp": lambda t: t.signed({**t.claims, "aud": [*t.claims["aud"], "other"]}),
    "expired": lambda t: t.signed({**t.claims, "exp": int(time.time()) - 600,
                                   "iat": int(time.time()) - 4200}),
    "no exp": lambda t: t.signed({k: v for k, v in t.claims.items() if k != "exp"}),
    "alg none": unsigned,
    "HS256 keyed with the public key": hs256_with_the_public_key,
    "unknown key": lambda t: t.signed(key=another_key(), headers={"kid": "key-we-never-published"}),
    "another key under the known kid": lambda t: t.signed(key=another_key()),
    "claims altered after signing": altered_without_resigning,
}
EXPECTED_CHECK = {
    "issuer": "issuer", "audience": "audience", "several audiences, no azp": "audience",
    "expired": "expired", "no exp": "invalid_id_token", "alg none": "algorithm",
    "HS256 keyed with the public key": "algorithm", "unknown key": "unknown_key",
    "another key under the known kid": "signature", "claims altered after signing": "signature",
}


@pytest.mark.parametrize("case", list(ID_TOKEN_EDITS))
def test_a_bad_id_token_is_refused(client, sso, case):
    sso.contoso.edit_id_token = ID_TOKEN_EDITS[case]
    response = sign_in_with_sso(client, ERIN, ERIN_SUB)
    assert response.status_code == 400
    assert "could not verify the answer from Microsoft Entra ID" in response.content.decode()
    event = refusal()
    assert (event.detail["reason"], event.detail["check"]) == ("invalid_response", EXPECTED_CHECK[case])
    assert signed_in_user_id(client) is None and not LinkedIdentity.objects.exists()


def test_the_unedited_token_of_the_same_provider_is_accepted(client, sso):
    """The control for the table above: the same provider, re-signing its token unchanged."""
    sso.contoso.edit_id_token = lambda token: token.signed()
    assert sign_in_with_sso(client, ERIN, ERIN_SUB)["Location"] == "/signin/stay/"


@pytest.mark.parametrize("with_its_keys", [False, True])
def test_tokens_of_another_provider_are_refused(client, sso, with_its_keys):
    """Endpoints swapped for another real provider's: its tokens name another issuer and key."""
    rogue = sso.rogue
    rogue.add_user(ERIN_SUB, preferred_username=ERIN)
    overrides = {"authorization_endpoint": f"{rogue.issuer}/oauth2/authorize",
                 "token_endpoint": f"{rogue.issuer}/oauth2/token",
                 "userinfo_endpoint": f"{rogue.issuer}/userinfo"}
    if with_its_keys:
        overrides["jwks_uri"] = f"{rogue.issuer}/jwks"
    app = SocialApp.objects.get(provider_id="mitel-100003")
    app.settings = {**app.settings, "openid_configuration_overrides": overrides}
    app.save()
    response = sign_in_with_sso(client, ERIN, ERIN_SUB)
    assert response.status_code == 400
    assert refusal().detail["check"] == ("issuer" if with_its_keys else "unknown_key")
    assert signed_in_user_id(client) is None


# --- 19 and 20. Identities are issuer + sub; addresses never link ---------------------------------

def test_a_changed_preferred_username_does_not_open_another_account(client, sso):
    assert sign_in_with_sso(client, ERIN, ERIN_SUB)["Location"] == "/signin/stay/"
    evan = contoso_member("evan@contoso.example")
    # At Contoso, erin's identity (same sub) is renamed to her colleague's username.
    sso.contoso.add_user(ERIN_SUB, preferred_username="evan@contoso.example")
    other = Client()
    response = sign_in_with_sso(other, "evan@contoso.example", ERIN_SUB)
    assert response.status_code == 403 and "linked to another Mitel sign-in" in response.content.decode()
    event = refusal(AuditEvent.Kind.SSO_MISMATCH)
    assert (event.user, event.detail["conflict"]) == (evan, "identity_linked_to_other_user")
    assert signed_in_user_id(other) is None
    assert list(LinkedIdentity.objects.values_list("user__username", flat=True)) == [ERIN]


def test_another_identity_asserting_a_linked_users_username_is_refused(client, sso):
    assert sign_in_with_sso(client, ERIN, ERIN_SUB)["Location"] == "/signin/stay/"
    sso.contoso.add_user("entra-impostor", preferred_username=ERIN)
    other = Client()
    response = sign_in_with_sso(other, ERIN, "entra-impostor")
    assert response.status_code == 403
    assert refusal(AuditEvent.Kind.SSO_MISMATCH).detail["conflict"] == "user_linked_to_other_identity"
    assert signed_in_user_id(other) is None


def test_a_provider_asserting_another_users_address_never_links_that_user(client, sso):
    alice = sso.users["alice@acme.example"]
    sso.contoso.add_user("entra-x", email="alice@acme.example", email_verified=True,
                         preferred_username="x@contoso.example")
    response = sign_in_with_sso(client, ERIN, "entra-x")
    assert response.status_code == 403
    assert signed_in_user_id(client) is None
    assert not LinkedIdentity.objects.exists() and not SocialAccount.objects.exists()
    assert not AuditEvent.objects.filter(user=alice).exists()


def test_an_unverified_address_is_never_taken_as_the_username(client, sso):
    sso.contoso.add_user("entra-y", email=ERIN)  # e-mail only, not marked verified
    response = sign_in_with_sso(client, ERIN, "entra-y")
    assert response.status_code == 403
    assert refusal(AuditEvent.Kind.SSO_MISMATCH).detail["reason"] == "mismatch"
    assert not LinkedIdentity.objects.exists()


def test_password_accounts_never_go_to_an_identity_provider(client, sso):
    enter_username(client, "alice@acme.example")
    response = client.post("/signin/authenticate/",
                           {"flow": client.session["signin_flow"]["flow_id"], "action": "sso"})
    assert response.status_code == 200 and not response.has_header("Location")


# --- 21. Mix-up: one account's provider cannot complete another account's sign-in -----------------

def test_a_code_from_another_accounts_provider_cannot_complete_this_sign_in(client, sso):
    enter_username(client, FRANK)
    initech_back = authorize(press_single_sign_on(client), FRANK_SUB)
    # Before Initech's answer arrives, the same browser starts erin's sign-in with Contoso.
    enter_username(client, ERIN)
    contoso_back = authorize(press_single_sign_on(client), ERIN_SUB)
    response = come_back(client, initech_back)  # Initech's real code and real state
    assert response.status_code == 400
    assert "does not belong to the sign-in in progress" in response.content.decode()
    assert refusal().detail["reason"] == "wrong_flow"
    assert signed_in_user_id(client) is None
    # erin's own answer still completes her sign-in.
    assert come_back(client, contoso_back)["Location"] == "/signin/stay/"


def test_another_providers_code_at_this_accounts_callback_is_refused(client, sso):
    enter_username(client, ERIN)
    contoso_back = authorize(press_single_sign_on(client), ERIN_SUB)
    attacker = Client()
    enter_username(attacker, FRANK)
    initech_code = parse_qs(urlsplit(authorize(press_single_sign_on(attacker), FRANK_SUB)).query)["code"][0]
    response = come_back(client, with_query(contoso_back, code=initech_code))
    assert response.status_code == 400 and refusal().detail["reason"] == "invalid_response"
    assert signed_in_user_id(client) is None


def test_a_state_is_good_only_at_the_callback_of_its_own_provider(client, sso):
    enter_username(client, FRANK)
    initech_back = authorize(press_single_sign_on(client), FRANK_SUB)
    query = {key: values[0] for key, values in parse_qs(urlsplit(initech_back).query).items()}
    response = client.get("/sso/mitel-100003/callback/", query)
    assert response.status_code == 400 and refusal().detail["check"] == "state"


# --- 22. Open redirects -----------------------------------------------------------------------------

@pytest.mark.parametrize("next_url", [
    "//evil.example", "https:evil.example", "\\\\evil.example", "/\\evil.example",
    "javascript:alert(1)", "https://evil.example/",
])
def test_after_sso_next_stays_on_the_site(client, sso, next_url):
    back = sign_in_with_sso(client, ERIN, ERIN_SUB, query="?" + urlencode({"next": next_url}))
    assert back["Location"] == "/signin/stay/"
    assert stay_signed_in(client)["Location"] == "/me/"


def test_after_sso_a_local_next_is_honoured(client, sso):
    sign_in_with_sso(client, ERIN, ERIN_SUB, query="?next=/me/activity/")
    assert stay_signed_in(client)["Location"] == "/me/activity/"
