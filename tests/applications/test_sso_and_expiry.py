"""An application's sign-in through SSO (amr federated), and a code that expired before use."""


import pytest

from tests.sso.oidc import ERIN_SUB, authorize

from .conftest import SECRET, RelyingParty

pytestmark = pytest.mark.django_db(transaction=True)


def test_erin_signs_in_through_entra_id_and_the_token_says_federated(browser, provider, sso,
                                                                       confidential_app):
    rp = RelyingParty(provider, confidential_app, SECRET)
    browser.open(rp.authorize_url())
    browser.submit(username="erin@contoso.example")
    browser.submit(action="sso")  # "Single Sign On"
    to_identity_provider = browser.location
    assert to_identity_provider.startswith(sso.contoso.issuer)
    browser.open(authorize(to_identity_provider, ERIN_SUB))  # back to the portal's callback
    if 'name="stay"' in browser.page.text:
        browser.submit(stay="no")
    claims = rp.id_token_claims(rp.exchange(browser.location))
    assert claims["preferred_username"] == "erin@contoso.example"
    assert claims["amr"] == ["fed"] and claims["mitel_account"]["number"] == "100003"
