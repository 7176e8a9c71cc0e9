"""Sign-out: RP-Initiated Logout and /signout/ revoke the session's tokens and tell applications."""

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.jose import JsonWebKey, jwt

from accounts.models import Application, User

from .conftest import SECRET, RelyingParty

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def receiver():
    """An application's back-channel logout endpoint on loopback: records what it is sent."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            received.append({k: v[0] for k, v in parse_qs(body).items()})
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/logout", received
    server.shutdown()


def signed_in(browser, rp: RelyingParty) -> dict:
    browser.open(rp.authorize_url())
    browser.sign_in("alice@acme.example")
    return rp.exchange(browser.location)


def refresh_works(rp: RelyingParty, token: dict) -> bool:
    return requests.post(rp.config["token_endpoint"], auth=(rp.client_id, SECRET), timeout=10, data={
        "grant_type": "refresh_token", "refresh_token": token["refresh_token"]}).status_code == 200


def test_rp_initiated_logout_revokes_the_tokens_and_sends_a_signed_logout_token(
        browser, provider, confidential_app, receiver):
    uri, received = receiver
    Application.objects.filter(pk=confidential_app.pk).update(
        backchannel_logout_uri=uri, post_logout_redirect_uris="https://app.mitel.example/bye")
    rp = RelyingParty(provider, confidential_app, SECRET)
    token = signed_in(browser, rp)
    id_claims = rp.id_token_claims(token)

    browser.open(f"{rp.config['end_session_endpoint']}?" + requests.compat.urlencode({
        "id_token_hint": token["id_token"], "post_logout_redirect_uri": "https://app.mitel.example/bye",
        "state": "s1"}))
    assert browser.location == "https://app.mitel.example/bye?state=s1"
    assert not refresh_works(rp, token)
    assert browser.session.get(f"{provider}/me/", allow_redirects=False).status_code == 302

    assert len(received) == 1
    jwks = JsonWebKey.import_key_set(requests.get(rp.config["jwks_uri"], timeout=10).json())
    claims = jwt.decode(received[0]["logout_token"], jwks)  # signed by the provider's key
    claims.validate()
    assert claims["iss"] == rp.config["issuer"] and claims["aud"] == rp.client_id
    assert claims["sub"] == id_claims["sub"] == str(User.objects.get(username="alice@acme.example").sub)
    assert claims["sid"] == id_claims["sid"] and "nonce" not in claims
    assert "http://schemas.openid.net/event/backchannel-logout" in claims["events"]


def test_signout_revokes_the_sessions_tokens_but_not_another_devices(browser, provider,
                                                                      confidential_app):
    from .http import Browser

    rp = RelyingParty(provider, confidential_app, SECRET)
    token = signed_in(browser, rp)
    other_device = Browser(provider)
    other_rp = RelyingParty(provider, confidential_app, SECRET)
    other_token = signed_in(other_device, other_rp)

    browser.open("/signout/")
    browser.submit()
    assert urlsplit(browser.page.url).path == "/signin/"
    assert not refresh_works(rp, token)
    assert refresh_works(other_rp, other_token)


def test_an_application_that_fails_never_blocks_the_sign_out(browser, provider, confidential_app):
    Application.objects.filter(pk=confidential_app.pk).update(
        backchannel_logout_uri="http://127.0.0.1:9/nobody-listens")
    rp = RelyingParty(provider, confidential_app, SECRET)
    token = signed_in(browser, rp)
    browser.open("/signout/")
    browser.submit()
    assert urlsplit(browser.page.url).path == "/signin/"
    assert not refresh_works(rp, token)


def test_a_password_change_that_ends_other_sessions_revokes_their_tokens(browser, provider,
                                                                          confidential_app):
    from accounts.services.passwords import change_password

    rp = RelyingParty(provider, confidential_app, SECRET)
    token = signed_in(browser, rp)
    alice = User.objects.get(username="alice@acme.example")
    change_password(alice, "a brand new passphrase for alice", acting_user=alice)
    assert not refresh_works(rp, token)


def test_deactivating_a_user_revokes_their_applications_tokens(browser, provider, confidential_app):
    rp = RelyingParty(provider, confidential_app, SECRET)
    token = signed_in(browser, rp)
    alice = User.objects.get(username="alice@acme.example")
    alice.is_active = False
    alice.save()
    assert not refresh_works(rp, token)


@pytest.mark.parametrize("where", ["loopback", "metadata"])
def test_a_logout_uri_off_the_public_internet_is_never_contacted(
        browser, provider, confidential_app, receiver, settings, caplog, where):
    """Outside tests and DEBUG, loopback is refused like any address not on the public internet
    (sso.outbound): the sign-out still completes, and the refusal is logged."""
    uri, received = receiver
    if where == "metadata":
        uri = "http://169.254.169.254/latest/meta-data/"
    Application.objects.filter(pk=confidential_app.pk).update(backchannel_logout_uri=uri)
    rp = RelyingParty(provider, confidential_app, SECRET)
    token = signed_in(browser, rp)
    settings.SSO_ALLOW_LOOPBACK_ISSUERS = False

    with caplog.at_level("WARNING", logger="applications.logout"):
        browser.open("/signout/")
        browser.submit()
    assert urlsplit(browser.page.url).path == "/signin/"
    assert not refresh_works(rp, token)
    assert received == []
    assert "Refused" in caplog.text


def test_supports_mfa_reset_ends_the_users_sessions_and_revokes_their_tokens(
        browser, provider, confidential_app, demo):
    from accounts.models import UserSession
    from accounts.services.mfa import reset_mfa

    rp = RelyingParty(provider, confidential_app, SECRET)
    token = signed_in(browser, rp)
    alice = User.objects.get(username="alice@acme.example")
    assert UserSession.objects.filter(user_id=alice.pk).exists()
    reset_mfa(alice, acting_user=User.objects.get(username="admin@mitel.example"))
    assert not UserSession.objects.filter(user_id=alice.pk).exists()
    assert browser.session.get(f"{provider}/me/", allow_redirects=False).status_code == 302
    assert not refresh_works(rp, token)


def test_signing_out_everywhere_revokes_the_tokens_of_every_session(browser, provider,
                                                                    confidential_app):
    from accounts.services.sessions import end_every_session

    from .http import Browser

    rp = RelyingParty(provider, confidential_app, SECRET)
    token = signed_in(browser, rp)
    other_rp = RelyingParty(provider, confidential_app, SECRET)
    other_token = signed_in(Browser(provider), other_rp)
    end_every_session(User.objects.get(username="alice@acme.example"))
    assert not refresh_works(rp, token) and not refresh_works(other_rp, other_token)


def test_signing_out_one_other_session_revokes_its_tokens_only(browser, provider, confidential_app):
    from accounts import session_life
    from accounts.services.sessions import end_session

    from .http import Browser

    rp = RelyingParty(provider, confidential_app, SECRET)
    token = signed_in(browser, rp)
    other_rp = RelyingParty(provider, confidential_app, SECRET)
    other = Browser(provider)
    other_token = signed_in(other, other_rp)
    alice = User.objects.get(username="alice@acme.example")
    other_key = other.session.cookies.get("sessionid")
    assert end_session(alice, session_life.handle(other_key))
    assert not refresh_works(other_rp, other_token)
    assert refresh_works(rp, token)


def verified_logout_claims(rp: RelyingParty, token: str) -> dict:
    jwks = JsonWebKey.import_key_set(requests.get(rp.config["jwks_uri"], timeout=10).json())
    claims = jwt.decode(token, jwks)
    claims.validate()
    return dict(claims)


def test_deactivating_a_user_sends_their_applications_a_logout_token(
        browser, provider, confidential_app, receiver, settings):
    """Nobody signed out in this browser: the issuer comes from PUBLIC_URL, not a request."""
    settings.PUBLIC_URL = provider  # the public URL is the provider's origin, as in production
    uri, received = receiver
    Application.objects.filter(pk=confidential_app.pk).update(backchannel_logout_uri=uri)
    rp = RelyingParty(provider, confidential_app, SECRET)
    id_claims = rp.id_token_claims(signed_in(browser, rp))
    alice = User.objects.get(username="alice@acme.example")
    alice.is_active = False
    alice.save()
    assert len(received) == 1
    claims = verified_logout_claims(rp, received[0]["logout_token"])
    assert claims["iss"] == rp.config["issuer"] and claims["aud"] == rp.client_id
    assert (claims["sub"], claims["sid"]) == (id_claims["sub"], id_claims["sid"])


def test_signing_out_everywhere_tells_the_application_once_per_session(
        browser, provider, confidential_app, receiver, settings):
    from accounts.services.sessions import end_every_session

    from .http import Browser

    settings.PUBLIC_URL = provider
    uri, received = receiver
    Application.objects.filter(pk=confidential_app.pk).update(backchannel_logout_uri=uri)
    first = RelyingParty(provider, confidential_app, SECRET)
    first_sid = first.id_token_claims(signed_in(browser, first))["sid"]
    again = RelyingParty(provider, confidential_app, SECRET)
    browser.open(again.authorize_url())  # the same session, a second code: one token still
    again.exchange(browser.location)
    other = RelyingParty(provider, confidential_app, SECRET)
    other_sid = other.id_token_claims(signed_in(Browser(provider), other))["sid"]
    end_every_session(User.objects.get(username="alice@acme.example"))
    sids = sorted(verified_logout_claims(first, r["logout_token"])["sid"] for r in received)
    assert sids == sorted([first_sid, other_sid])


def test_a_rolled_back_deactivation_tells_no_application(browser, provider, confidential_app,
                                                        receiver):
    from django.db import transaction

    uri, received = receiver
    Application.objects.filter(pk=confidential_app.pk).update(backchannel_logout_uri=uri)
    rp = RelyingParty(provider, confidential_app, SECRET)
    token = signed_in(browser, rp)
    alice = User.objects.get(username="alice@acme.example")
    with pytest.raises(RuntimeError), transaction.atomic():
        alice.is_active = False
        alice.save()
        raise RuntimeError("the deactivation fails")
    assert received == [] and refresh_works(rp, token)
