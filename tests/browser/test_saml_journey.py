"""Single Sign On over SAML in a real browser, against a real SAML identity provider (pysaml2) that
Chromium reaches under another site name, so its post back to the portal is cross-site and the
portal's SameSite=Lax session cookie does not come with it, as in production."""

import re

import pytest

from tests.browser.conftest import IDP_SITE
from tests.sso.saml_idp import ENTRA_NAME, ENTRA_OBJECT_ID, IdentityProvider

MEETINGS = re.compile(r"^https://meetings\.mitel\.example/")


@pytest.fixture
def contoso_saml(site, settings):
    """Contoso's SSO connection switched to SAML, its Entra ID-shaped provider at saml-idp.test."""
    from sso.models import SsoConnection
    from sso.saml import sp_metadata
    from sso.services.connections import load_saml_metadata, save_connection

    settings.PUBLIC_URL = site  # the SP entity ID and ACS URL are on the live server
    idp = IdentityProvider("contoso-browser", shape="entra", host=IDP_SITE)
    connection = SsoConnection.objects.get(account__account_number="100003")
    connection.protocol = SsoConnection.Protocol.SAML
    save_connection(load_saml_metadata(connection, document=idp.metadata()))
    idp.sp_metadata = [sp_metadata(connection)]
    idp.add_user("erin", name_id="erin-persistent-id", attributes={
        ENTRA_NAME: ["erin@contoso.example"], ENTRA_OBJECT_ID: ["erin-object-id"]})
    idp.add_user("eve", name_id="eve-persistent-id", attributes={
        ENTRA_NAME: ["eve@contoso.example"], ENTRA_OBJECT_ID: ["eve-object-id"]})
    yield idp
    idp.stop()


def continue_at_the_provider(browsing, *, expect: str):
    """The provider's own page (not ours: no accessibility or CSP checks there): post back to us."""
    page = browsing.page
    page.wait_for_url(re.compile(rf"^http://{re.escape(IDP_SITE)}:\d+/sso\?"))
    posts = []
    page.on("request", lambda request: posts.append(request) if request.method == "POST" else None)
    with page.expect_navigation(url=re.compile(expect)):
        page.get_by_role("button", name="Continue to Mitel").click()
    acs = [request for request in posts if "/saml/acs/" in request.url]
    assert len(acs) == 1
    return acs[0]


def test_erin_signs_in_through_saml_posted_cross_site_and_lands_in_the_application(
        open_browser, contoso_saml):
    erin = open_browser(folder="journeys")
    erin.goto("/signin/?app=miteam-meetings&login_hint=erin@contoso.example")
    erin.page.get_by_role("button", name="Next").click()
    erin.page.wait_for_url(re.compile("/signin/authenticate/"))
    cookies = {cookie["name"] for cookie in erin.page.context.cookies()}
    assert "sessionid" in cookies
    contoso_saml.sign_in_as("erin")  # the person at the provider's own sign-in page
    with erin.page.expect_request(re.compile(r"/sso/start/$")) as start:
        erin.page.get_by_role("button", name="Single Sign On").click()
    assert "sessionid" in start.value.header_value("cookie")  # a same-site post carries it
    acs = continue_at_the_provider(erin, expect=r"/signin/stay/")
    # The proof that this journey is the production one: the post came without the session cookie.
    assert "sessionid" not in (acs.header_value("cookie") or "")
    assert erin.heading() == "Stay signed in?"
    erin.check("saml erin back from entra id")
    erin.page.get_by_role("button", name="Yes").click()
    erin.page.wait_for_url(MEETINGS)


def test_someone_else_at_the_provider_is_refused_in_the_browser(open_browser, contoso_saml):
    erin = open_browser(folder="journeys")
    erin.goto("/signin/?login_hint=erin@contoso.example")
    erin.page.get_by_role("button", name="Next").click()
    contoso_saml.sign_in_as("eve")
    erin.page.get_by_role("button", name="Single Sign On").click()
    continue_at_the_provider(erin, expect=r"/sso/saml/continue/")
    assert "does not match your Mitel username" in erin.heading()
    erin.check("saml mismatch")


def test_a_contact_tests_the_saml_connection_in_the_browser(open_browser, contoso_saml, demo, site):
    """"Test connection" of a SAML connection on the guided set-up page (its answer posted cross-site
    to the ACS, the result on the set-up page), and the SSO connection page with its SAML section, pass
    the same checks as the sign-in screens."""
    from django.test import Client

    from accounts.models import Membership
    from sso.models import SsoConnection

    erin_user = demo["erin@contoso.example"]
    Membership.objects.filter(user=erin_user, account__account_number="100003").update(
        is_decision_maker=True)
    session = Client()
    session.force_login(erin_user)
    contact = open_browser(folder="portal")
    contact.page.context.add_cookies([{"name": "sessionid", "value": session.cookies["sessionid"].value,
                                       "url": site}])
    connection = SsoConnection.objects.get(account__account_number="100003")
    contact.goto(f"/admin/sso/ssoconnection/{connection.pk}/change/")
    assert f"{site}/sso/mitel-100003/saml/acs/" in contact.page.locator("main").inner_text()
    contact.check("saml connection in the connect portal")

    contact.goto("/admin/sso/ssoconnection/setup/100003/")
    assert f"{site}/sso/mitel-100003/saml/acs/" in contact.page.locator("main").inner_text()
    contact.check("saml guided set-up")
    contoso_saml.sign_in_as("erin")
    contact.page.get_by_role("button", name="Test connection").click()
    continue_at_the_provider(contact, expect=r"/admin/sso/ssoconnection/setup/100003/$")
    assert "Test passed" in contact.page.locator("main").inner_text()
    contact.check("saml test connection result")
