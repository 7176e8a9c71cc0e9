"""Grace, Decision Maker of Acme Dental, turns on Entra ID Single Sign On for her account through the
guided page, test included, against a real OpenID Connect provider on 127.0.0.1; then signs in
again through it, as the page tells her to."""

import re

import pytest
from django.utils import timezone

from accounts.models import Application, AuditEvent, Domain, MitelAccount
from sso.models import LinkedIdentity

from .conftest import DESKTOP, PHONE

pytestmark = pytest.mark.browser

DEMO_PASSWORD = "Mitel-demo-2026!"
GRACE_SUB = "grace-at-acme-entra"
SETUP = re.compile(r"/admin/sso/ssoconnection/setup/100001/$")


@pytest.fixture
def acme_idp(demo, oidc_providers, site):
    """Acme's Entra ID (a local provider) knows grace; acme.example is verified for Acme; the
    Connect Portal application lives on the test server's port instead of 8000."""
    Application.objects.filter(slug="connect-portal").update(home_url=f"{site}/admin/",
                                                             redirect_urls=f"{site}/")
    Domain.objects.create(account=MitelAccount.objects.get(account_number="100001"), name="acme.example",
                          token="acme-token", verified_at=timezone.now(), verified_by=Domain.Method.STAFF)
    idp = oidc_providers.contoso
    idp.add_user(GRACE_SUB, preferred_username="grace@acme.example", name="Grace Hopper")
    yield idp
    idp.reset()


def authorize_at_the_provider(browsing, sub: str, then: re.Pattern) -> None:
    """The provider's own page (not ours: no accessibility or CSP checks there)."""
    page = browsing.page
    page.wait_for_url(re.compile(r"^http://127\.0\.0\.1:\d+/oauth2/authorize"))
    page.locator("#subject-input").fill(sub)
    with page.expect_navigation(url=then):
        page.get_by_role("button", name="Authorize", exact=True).click()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "360"])
def test_grace_turns_on_entra_id_for_acme_through_the_guided_page(open_browser, acme_idp, viewport):
    width = str(viewport["width"])
    grace = open_browser(viewport, folder="sso-setup", width_name=width)
    page = grace.page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    grace.goto("/admin/")  # to the sign-in, and back
    page.get_by_label("Username").fill("grace@acme.example")
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Yes").click()
    page.wait_for_url(re.compile(r"/admin/$"))

    # From her dashboard to the guided page: Acme still signs in with passwords.
    page.locator(".portal-accounts").get_by_role("link", name="SSO connection").click(timeout=5000)
    page.wait_for_url(SETUP)
    assert "Acme Dental signs in with Mitel passwords" in page.locator("#content-main").inner_text()
    grace.check("1 guided page")

    # 1. The provider; 2. the redirect URI, copied with the button.
    page.get_by_label("Microsoft Entra ID").check()
    page.get_by_role("button", name="Choose").click()
    uri = page.locator("#redirect-uri").inner_text()
    assert re.fullmatch(r"http://localhost:\d+/sso/mitel-100001/callback/", uri), uri
    page.get_by_role("button", name="Copy").click()
    page.wait_for_function("() => document.getElementById('redirect-uri-copied').textContent !== ''")
    if page.locator("#redirect-uri-copied").inner_text() == "Copied.":
        assert page.evaluate("navigator.clipboard.readText()") == uri
    grace.check("2 redirect uri and settings")

    # 3. The settings from Entra ID (the local provider stands in for the tenant).
    page.get_by_label("Test provider issuer URL").fill(acme_idp.issuer)
    page.get_by_label("Application (client) ID").fill("acme-dental-client")
    page.get_by_label("Client secret value").fill("acme-dental-secret")
    page.get_by_role("button", name="Save settings").click()
    page.wait_for_url(SETUP)
    assert "The settings are saved" in page.locator(".messagelist").inner_text()
    assert "acme-dental-secret" not in page.content()
    assert page.get_by_role("button", name="Turn on").count() == 0  # not before a passing test

    # 4. The test: a real sign-in at the provider, back on this page, nobody signed in.
    page.get_by_role("button", name="Test connection").click()
    authorize_at_the_provider(grace, GRACE_SUB, SETUP)
    result = page.locator("#content-main").inner_text()
    assert "Test passed" in result and "It matches your own Mitel username." in result
    assert "Grace Hopper" in result
    assert not LinkedIdentity.objects.exists()
    grace.check("3 test passed")

    # 5. Turn on, Single Sign On only: this password session can no longer manage Acme.
    page.get_by_label("Single Sign On only").check()
    page.get_by_role("button", name="Turn on").click()
    assert "this session can no longer manage Acme Dental" in page.locator("#content-main").inner_text()
    acme = MitelAccount.objects.get(account_number="100001")
    assert (acme.authentication, acme.allow_password_sign_in) == ("azure_ad", False)
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.SSO_TURNED_ON, actor__username="grace@acme.example",
                                     account=acme).exists()
    grace.check("4 turned on")

    # Signing in again, now through Entra ID, brings her back to the page with her powers.
    page.get_by_role("button", name="Sign out, then sign in with Single Sign On").click()
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Single Sign On").click()
    authorize_at_the_provider(grace, GRACE_SUB, re.compile(r"/signin/stay/"))
    page.get_by_role("button", name="Yes").click()
    page.wait_for_url(SETUP)
    assert ("Acme Dental signs in with Single Sign On through Microsoft Entra ID only"
            in page.locator("#content-main").inner_text())
    grace.check("5 signed in with entra id")
