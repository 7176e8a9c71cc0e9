"""The authorization code flow over HTTP on a live server, with Authlib as the application."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.integrations.base_client.errors import OAuthError
from django.utils import timezone

from accounts.models import AuditEvent, Membership, User
from tests.accounts.mfa_helpers import code_for, trents_device

from .conftest import SECRET, RelyingParty

pytestmark = pytest.mark.django_db(transaction=True)


def sign_in_through(browser, rp: RelyingParty, username: str, **signin) -> dict:
    """Authorize, the sign-in pages, back to the application, the code exchanged: the token."""
    browser.open(rp.authorize_url())
    browser.sign_in(username, **signin)
    return rp.exchange(browser.location)


def test_alice_signs_in_to_a_mitel_application_and_its_id_token_says_who_and_how(
        browser, provider, confidential_app):
    rp = RelyingParty(provider, confidential_app, SECRET)
    browser.open(rp.authorize_url())
    assert "/signin/" in browser.page.url and "<h1>Sign in to MiTeam Meetings</h1>" in browser.page.text
    browser.sign_in("alice@acme.example")
    callback = browser.location
    assert parse_qs(urlsplit(callback).query)["state"] == [rp.state]

    token = rp.exchange(callback)
    claims = rp.id_token_claims(token)  # signature (JWKS, kid), iss, aud, exp, nonce
    alice = User.objects.get(username="alice@acme.example")
    assert claims["sub"] == str(alice.sub) and claims["nonce"] == rp.nonce
    assert claims["preferred_username"] == "alice@acme.example"
    assert claims["email"] == "alice@acme.example" and claims["name"] == "Alice Archer"
    assert (claims["given_name"], claims["family_name"]) == ("Alice", "Archer")
    assert claims["email_verified"] is False  # staff and contacts type addresses; nobody proves them
    assert claims["mitel_account"] == {"number": "100001", "partner_label": "ACME-DENTAL",
                                       "name": "Acme Dental"}
    assert claims["mitel_roles"] == []
    assert claims["amr"] == ["pwd"] and claims["acr"] == "urn:mitel:loa:1"
    assert claims["sid"] and abs(claims["auth_time"] - claims["iat"]) < 60

    userinfo = rp.client.get(rp.config["userinfo_endpoint"]).json()
    assert userinfo["sub"] == claims["sub"] and userinfo["mitel_account"]["number"] == "100001"
    assert {name: userinfo[name] for name in ("name", "given_name", "family_name", "email",
                                              "email_verified", "preferred_username")} == {
        name: claims[name] for name in ("name", "given_name", "family_name", "email",
                                        "email_verified", "preferred_username")}
    # How the user signed in is said once, in the ID token; userinfo describes the person only.
    assert not {"amr", "acr", "sid", "auth_time"} & set(userinfo)
    event = AuditEvent.objects.filter(kind=AuditEvent.Kind.TOKEN_ISSUED).get()
    assert (event.user, event.application, event.account.account_number, event.method, event.detail) == (
        alice, confidential_app, "100001", "password", {"grant": "authorization_code"})


def test_tokens_without_a_sign_in_record_still_work(browser, provider, confidential_app):
    """A token issued before sign-ins were recorded, or whose record is gone: userinfo and a
    refresh still describe the person, without the claims about a sign-in they do not know."""
    from applications.models import ApplicationSignIn

    rp = RelyingParty(provider, confidential_app, SECRET)
    token = sign_in_through(browser, rp, "alice@acme.example")
    ApplicationSignIn.objects.all().delete()
    userinfo = requests.get(rp.config["userinfo_endpoint"], timeout=10,
                            headers={"Authorization": f"Bearer {token['access_token']}"})
    assert userinfo.status_code == 200
    assert userinfo.json()["preferred_username"] == "alice@acme.example"
    assert not {"amr", "acr", "sid", "mitel_account"} & set(userinfo.json())
    refreshed = rp.client.refresh_token(rp.config["token_endpoint"], refresh_token=token["refresh_token"])
    again = rp.id_token_claims(refreshed, refreshed=True)
    assert again["sub"] == str(User.objects.get(username="alice@acme.example").sub)
    assert not {"amr", "acr", "sid", "mitel_account"} & set(again)
    event = AuditEvent.objects.filter(kind=AuditEvent.Kind.TOKEN_ISSUED).latest("pk")
    assert (event.user.username, event.account, event.method, event.detail) == (
        "alice@acme.example", None, "", {"grant": "refresh_token"})


def test_a_token_never_borrows_another_sign_ins_account(browser, provider, confidential_app):
    """Alice's token whose refresh token is gone finds no sign-in of its own: userinfo must not take
    the account of a sign-in still waiting for its code to be exchanged (Bob's, in Globex)."""
    from oauth2_provider.models import get_refresh_token_model

    from .http import Browser

    rp = RelyingParty(provider, confidential_app, SECRET)
    token = sign_in_through(browser, rp, "alice@acme.example")
    get_refresh_token_model().objects.all().delete()
    bobs = RelyingParty(provider, confidential_app, SECRET)
    other = Browser(provider)
    other.open(bobs.authorize_url())
    other.sign_in("bob@multi.example", account="100002")  # his code issued, not yet exchanged
    userinfo = requests.get(rp.config["userinfo_endpoint"], timeout=10,
                            headers={"Authorization": f"Bearer {token['access_token']}"}).json()
    assert userinfo["preferred_username"] == "alice@acme.example" and "mitel_account" not in userinfo


def test_the_sub_stays_when_the_username_changes(browser, provider, confidential_app):
    alice = User.objects.get(username="alice@acme.example")
    User.objects.filter(pk=alice.pk).update(username="alice.archer@acme.example")
    rp = RelyingParty(provider, confidential_app, SECRET)
    claims = rp.id_token_claims(sign_in_through(browser, rp, "alice.archer@acme.example"))
    assert claims["sub"] == str(alice.sub)
    assert claims["preferred_username"] == "alice.archer@acme.example"


def test_bob_chooses_globex_and_the_token_says_globex(browser, provider, confidential_app):
    rp = RelyingParty(provider, confidential_app, SECRET)
    claims = rp.id_token_claims(sign_in_through(browser, rp, "bob@multi.example", account="100002"))
    assert claims["mitel_account"]["number"] == "100002"
    assert claims["mitel_account"]["partner_label"] == "GLOBEX"


def test_grace_receives_her_roles_in_the_account(browser, provider, confidential_app):
    rp = RelyingParty(provider, confidential_app, SECRET)
    claims = rp.id_token_claims(sign_in_through(browser, rp, "grace@acme.example"))
    assert claims["mitel_roles"] == ["decision_maker"]


def test_roles_are_those_of_the_account_chosen(browser, provider, confidential_app):
    """Bob decides for Acme, not for Globex: signed in to Globex, the token gives him no role."""
    Membership.objects.filter(user__username="bob@multi.example",
                              account__account_number="100001").update(is_decision_maker=True)
    rp = RelyingParty(provider, confidential_app, SECRET)
    token = sign_in_through(browser, rp, "bob@multi.example", account="100002")
    assert rp.id_token_claims(token)["mitel_roles"] == []
    acme = RelyingParty(provider, confidential_app, SECRET)
    browser.open(acme.authorize_url(prompt="login"))
    browser.sign_in("bob@multi.example", account="100001")
    assert acme.id_token_claims(acme.exchange(browser.location))["mitel_roles"] == ["decision_maker"]


def test_a_member_removed_from_the_account_gets_no_more_tokens_for_it(browser, provider, confidential_app):
    """More cases (the session expired first, the account deleted, the account kept):
    test_removed_member.py."""
    rp = RelyingParty(provider, confidential_app, SECRET)
    token = sign_in_through(browser, rp, "grace@acme.example")
    assert rp.id_token_claims(token)["mitel_roles"] == ["decision_maker"]
    Membership.objects.filter(user__username="grace@acme.example").delete()
    with pytest.raises(OAuthError, match="invalid_grant"):
        rp.client.refresh_token(rp.config["token_endpoint"], refresh_token=token["refresh_token"])


def test_trent_with_mfa_gets_pwd_and_otp(browser, provider, confidential_app):
    rp = RelyingParty(provider, confidential_app, SECRET)
    device = trents_device()
    claims = rp.id_token_claims(sign_in_through(browser, rp, "trent@acme.example",
                                                code=lambda: code_for(device)))
    assert claims["amr"] == ["pwd", "otp"] and claims["acr"] == "urn:mitel:loa:2"


def test_scopes_decide_the_claims(browser, provider, confidential_app):
    rp = RelyingParty(provider, confidential_app, SECRET, scope="openid")
    claims = rp.id_token_claims(sign_in_through(browser, rp, "alice@acme.example"))
    assert "email" not in claims and "mitel_account" not in claims and "name" not in claims
    assert claims["amr"] == ["pwd"]


def test_a_public_client_signs_in_with_pkce_after_consent(browser, provider, public_app):
    rp = RelyingParty(provider, public_app)
    browser.open(rp.authorize_url())
    browser.sign_in("alice@acme.example")
    assert browser.page.status_code == 200 and "Allow Partner Dashboard?" in browser.page.text
    browser.submit(allow="Allow")
    claims = rp.id_token_claims(rp.exchange(browser.location))
    assert claims["preferred_username"] == "alice@acme.example"


# --- refused ---------------------------------------------------------------------------------


def test_a_public_client_without_pkce_is_refused(browser, provider, public_app):
    rp = RelyingParty(provider, public_app)
    url = rp.authorize_url()
    query = {k: v for k, v in parse_qs(urlsplit(url).query).items()
             if k not in {"code_challenge", "code_challenge_method"}}
    response = requests.get(rp.config["authorization_endpoint"], params=query, allow_redirects=False,
                            timeout=10)
    assert response.status_code == 302
    assert parse_qs(urlsplit(response.headers["Location"]).query)["error"] == ["invalid_request"]


def test_a_wrong_code_verifier_is_refused(browser, provider, confidential_app):
    rp = RelyingParty(provider, confidential_app, SECRET)
    browser.open(rp.authorize_url())
    browser.sign_in("alice@acme.example")
    rp.verifier = "not-the-verifier-" + "x" * 40
    with pytest.raises(Exception, match="invalid_grant"):
        rp.exchange(browser.location)


def test_an_unregistered_redirect_uri_gets_an_error_page_never_a_redirect(browser, provider,
                                                                           confidential_app):
    rp = RelyingParty(provider, confidential_app, SECRET)
    url = rp.authorize_url().replace("app.mitel.example%2Fcallback", "evil.example%2Fcallback")
    anonymous = requests.get(url, allow_redirects=False, timeout=10)
    browser.open(RelyingParty(provider, confidential_app, SECRET).authorize_url())
    browser.sign_in("alice@acme.example")
    signed_in = browser.session.get(url, allow_redirects=False, timeout=10)
    for response in (anonymous, signed_in):
        assert response.status_code == 400 and "Location" not in response.headers
        assert "This sign-in link does not work" in response.text


def test_a_code_used_twice_is_refused_and_revokes_what_it_gave(browser, provider, confidential_app):
    rp = RelyingParty(provider, confidential_app, SECRET)
    browser.open(rp.authorize_url())
    browser.sign_in("alice@acme.example")
    callback = browser.location
    token = rp.exchange(callback)
    with pytest.raises(Exception, match="invalid_grant"):
        rp.exchange(callback)
    response = rp.client.get(rp.config["userinfo_endpoint"])
    assert response.status_code == 401
    refreshed = requests.post(rp.config["token_endpoint"], auth=(rp.client_id, SECRET), timeout=10,
                              data={"grant_type": "refresh_token",
                                    "refresh_token": token["refresh_token"]})
    assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"
    # What Acme's contacts see in the audit: whose sign-in, where and how, and why it was revoked.
    event = AuditEvent.objects.filter(kind=AuditEvent.Kind.TOKENS_REVOKED).get()
    assert (event.user.username, event.application, event.account.account_number, event.method,
            event.detail) == ("alice@acme.example", confidential_app, "100001", "password",
                              {"reason": "authorization_code_reused"})


def test_an_expired_code_is_refused_without_being_taken_for_a_stolen_one(browser, provider,
                                                                          confidential_app):
    from oauth2_provider.models import get_grant_model

    rp = RelyingParty(provider, confidential_app, SECRET)
    browser.open(rp.authorize_url())
    browser.sign_in("alice@acme.example")
    get_grant_model().objects.update(expires=timezone.now() - timedelta(seconds=1))
    with pytest.raises(Exception, match="invalid_grant"):
        rp.exchange(browser.location)
    # Nothing was issued, so nothing is revoked, and the audit does not report a replayed code.
    assert not AuditEvent.objects.filter(kind__in=[AuditEvent.Kind.TOKENS_REVOKED,
                                                   AuditEvent.Kind.TOKEN_ISSUED]).exists()


def test_a_wrong_client_secret_is_refused(browser, provider, confidential_app):
    rp = RelyingParty(provider, confidential_app, "not-the-secret")
    browser.open(rp.authorize_url())
    browser.sign_in("alice@acme.example")
    with pytest.raises(Exception, match="invalid_client"):
        rp.exchange(browser.location)


def test_discovery_and_jwks_publish_the_signing_key_with_its_kid(provider):
    config = requests.get(f"{provider}/.well-known/openid-configuration", timeout=10).json()
    assert config["issuer"] == provider
    assert config["response_types_supported"] == ["code"]
    assert config["code_challenge_methods_supported"] == ["S256"]
    for name in ("userinfo_endpoint", "revocation_endpoint", "introspection_endpoint",
                 "end_session_endpoint"):
        assert config.get(name, "").startswith(provider), name
    # The claims an application can count on, Mitel's own and auth_time among them.
    assert {"sub", "name", "email", "amr", "acr", "sid", "auth_time", "mitel_account",
            "mitel_roles"} <= set(config["claims_supported"])
    keys = requests.get(config["jwks_uri"], timeout=10).json()["keys"]
    assert len(keys) == 1 and keys[0]["kid"] and keys[0]["alg"] == "RS256" and "d" not in keys[0]


def test_login_hint_and_account_hint_reach_the_sign_in(browser, provider, confidential_app):
    rp = RelyingParty(provider, confidential_app, SECRET)
    browser.open(rp.authorize_url(login_hint="bob@multi.example", account="GLOBEX"))
    assert 'value="bob@multi.example"' in browser.page.text
    browser.submit(username="bob@multi.example")
    assert browser.page.url.endswith("/signin/authenticate/")  # the hint chose the account
    browser.submit(password="Mitel-demo-2026!")
    if 'name="stay"' in browser.page.text:
        browser.submit(stay="no")
    claims = rp.id_token_claims(rp.exchange(browser.location))
    assert claims["mitel_account"]["number"] == "100002"


def test_ui_locales_of_the_application_chooses_the_sign_in_language(browser, provider,
                                                                   confidential_app):
    """OpenID Connect's ui_locales: the first language we speak, for the whole sign-in."""
    rp = RelyingParty(provider, confidential_app, SECRET)
    browser.open(rp.authorize_url(ui_locales="pt-BR de-CH en"))
    assert '<html lang="de">' in browser.page.text and "Benutzername" in browser.page.text
    browser.submit(username="alice@acme.example")
    assert "Passwort eingeben" in browser.page.text
    browser.submit(password="Mitel-demo-2026!")
    if 'name="stay"' in browser.page.text:
        assert "Angemeldet bleiben?" in browser.page.text
        browser.submit(stay="no")
    assert rp.id_token_claims(rp.exchange(browser.location))["sub"]


def test_an_authorized_contact_sees_which_application_their_user_signed_in_to(
        browser, provider, confidential_app, client):
    from tests.signin import open_portal_as

    rp = RelyingParty(provider, confidential_app, SECRET)
    browser.open(rp.authorize_url())
    browser.sign_in("alice@acme.example")
    rp.exchange(browser.location)
    open_portal_as(client, User.objects.get(username="grace@acme.example"))  # Acme's Decision Maker
    page = client.get("/admin/accounts/auditevent/", {"kind__exact": "token_issued"}).content.decode()
    assert "Signed in to an application" in page and "MiTeam Meetings" in page
    assert "alice@acme.example" in page
