"""Single Sign On in a real browser, against a real OpenID Connect provider on 127.0.0.1."""

import re

from tests.sso.oidc import ERIN_SUB, FRANK_SUB

MEETINGS = re.compile(r"^https://meetings\.mitel\.example/")


def sign_in_at_the_provider(browsing, sub: str) -> None:
    """The provider's own page (not ours: no accessibility or CSP checks there)."""
    page = browsing.page
    page.wait_for_url(re.compile(r"^http://127\.0\.0\.1:\d+/oauth2/authorize"))
    page.locator("#subject-input").fill(sub)
    with page.expect_navigation(url=re.compile(r"/signin/stay/")):
        page.get_by_role("button", name="Authorize").click()


def test_erin_signs_in_with_entra_id_and_lands_in_the_application(open_browser, sso):
    erin = open_browser(folder="journeys")
    erin.goto("/signin/?app=miteam-meetings&login_hint=erin@contoso.example")
    erin.page.get_by_role("button", name="Next").click()
    erin.page.wait_for_url(re.compile("/signin/authenticate/"))
    assert erin.heading() == "Sign in with your company account"
    erin.check("sso erin 1 single sign on")
    erin.page.get_by_role("button", name="Single Sign On").click()
    sign_in_at_the_provider(erin, ERIN_SUB)
    assert erin.heading() == "Stay signed in?"
    erin.check("sso erin 2 back from entra id")
    erin.page.get_by_role("button", name="Yes").click()
    erin.page.wait_for_url(MEETINGS)


def test_frank_at_okta_as_someone_else_is_told_to_contact_an_authorized_contact(
        open_browser, sso):
    sso.initech.add_user("someone-else", preferred_username="eve@initech.example",
                         email="eve@initech.example", email_verified=True)
    frank = open_browser(folder="journeys")
    frank.goto("/signin/?app=miteam-meetings")
    frank.page.get_by_label("Username").fill("frank@initech.example")
    frank.page.get_by_role("button", name="Next").click()
    frank.page.get_by_role("button", name="Single Sign On").click()
    page = frank.page
    page.wait_for_url(re.compile(r"/oauth2/authorize"))
    page.locator("#subject-input").fill("someone-else")
    with page.expect_navigation(url=re.compile(r"/sso/")):
        page.get_by_role("button", name="Authorize").click()
    main = page.locator("main").inner_text()
    assert "Authorized Contact" in main
    frank.check("sso frank mismatch")
    assert FRANK_SUB  # frank's own identity was never used
