"""What an application's ID token says about a passkey sign-in (RFC 8176 ``amr``; README "OpenID
Connect"): ``pop`` for the passkey, ``mfa`` when it signed in alone, level 2 either way."""

import json
import re

import pytest

from accounts.models import User
from tests.accounts.mfa_helpers import trents_device
from tests.passkey_authenticator import SoftwareAuthenticator, add_passkey
from tests.signin import open_portal_as

from .conftest import SECRET, RelyingParty

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def passkey_of(client, provider, settings):
    """``passkey_of(username)``: the person adds a passkey on /me/ (software authenticator)."""
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [provider]

    def add(username: str, otp_device=None) -> SoftwareAuthenticator:
        authenticator = SoftwareAuthenticator(origin=provider)
        open_portal_as(client, User.objects.get(username=username), otp_device=otp_device)
        assert add_passkey(client, authenticator).status_code == 200
        return authenticator

    return add


def config_of(browser) -> dict:
    return json.loads(re.search(r'id="otp_webauthn_config" type="application/json">([^<]*)<',
                                browser.page.text).group(1))


def use_passkey(browser, authenticator: SoftwareAuthenticator) -> None:
    """The page's passkey button, as its script does it; then on to where the flow goes."""
    config = config_of(browser)
    headers = {"X-CSRFToken": config["csrfToken"]}
    options = browser.session.post(browser.origin + config["beginAuthenticationUrl"],
                                   headers=headers).json()
    answer = browser.session.post(browser.origin + config["completeAuthenticationUrl"],
                                  json=authenticator.get(options), headers=headers)
    assert answer.status_code == 200, answer.text
    browser.open(answer.json()["redirect_url"])


def test_a_passkey_sign_in_says_pop_and_mfa(browser, provider, confidential_app, passkey_of):
    authenticator = passkey_of("alice@acme.example")
    rp = RelyingParty(provider, confidential_app, SECRET)
    browser.open(rp.authorize_url())
    use_passkey(browser, authenticator)
    browser.submit(stay="no")
    claims = rp.id_token_claims(rp.exchange(browser.location))
    assert claims["preferred_username"] == "alice@acme.example"
    assert claims["amr"] == ["pop", "mfa"] and claims["acr"] == "urn:mitel:loa:2"


def test_a_password_and_a_passkey_say_pwd_and_pop(browser, provider, confidential_app, passkey_of):
    authenticator = passkey_of("trent@acme.example", otp_device=trents_device())
    rp = RelyingParty(provider, confidential_app, SECRET)
    browser.open(rp.authorize_url())
    browser.submit(username="trent@acme.example")
    browser.submit(password="Mitel-demo-2026!")
    assert "Use your passkey" in browser.page.text
    use_passkey(browser, authenticator)
    browser.submit(stay="no")
    claims = rp.id_token_claims(rp.exchange(browser.location))
    assert claims["amr"] == ["pwd", "pop"] and claims["acr"] == "urn:mitel:loa:2"


def test_a_passkey_sessions_proof_carries_to_another_account_that_takes_passwords(
        browser, provider, confidential_app, passkey_of):
    authenticator = passkey_of("bob@multi.example")
    rp = RelyingParty(provider, confidential_app, SECRET)
    browser.open(rp.authorize_url())
    use_passkey(browser, authenticator)
    browser.submit(account="", account_number="GLOBEX")
    browser.submit(stay="no")
    assert rp.id_token_claims(rp.exchange(browser.location))["mitel_account"]["number"] == "100002"
    other = RelyingParty(provider, confidential_app, SECRET)
    browser.open(other.authorize_url(account="100001"))  # no page: the passkey's proof carries
    claims = other.id_token_claims(other.exchange(browser.location))
    assert claims["mitel_account"]["number"] == "100001"
    assert claims["amr"] == ["pop", "mfa"] and claims["acr"] == "urn:mitel:loa:2"
