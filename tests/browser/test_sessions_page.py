"""Where you are signed in (/me/sessions/), in Chromium: alice sees her two sessions and signs the
other one out (SECURITY.md 51). The page passes the Content Security Policy and axe-core's WCAG 2.2
AA rules, on a desktop and on a phone."""

import re

import pytest

from .conftest import DESKTOP, PHONE

pytestmark = pytest.mark.browser

DEMO_PASSWORD = "Mitel-demo-2026!"


def sign_in(browsing, username: str = "alice@acme.example") -> None:
    browsing.goto("/signin/")
    browsing.page.get_by_label("Username").fill(username)
    browsing.page.get_by_role("button", name="Next").click()
    browsing.page.get_by_label("Password").fill(DEMO_PASSWORD)
    browsing.page.get_by_role("button", name="Sign in").click()
    browsing.page.wait_for_url(re.compile("/signin/stay/"))
    browsing.page.get_by_role("button", name="Yes").click()
    browsing.page.wait_for_url(re.compile("/me/$"))


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_alice_sees_her_two_sessions_and_signs_the_other_one_out(open_browser, viewport):
    laptop = open_browser(viewport, folder="sessions", width_name=f"{viewport['width']}")
    phone = open_browser(PHONE, folder="sessions")
    sign_in(phone)
    sign_in(laptop)

    laptop.page.get_by_role("link", name="Where you are signed in").click()
    laptop.page.wait_for_url(re.compile("/me/sessions/"))
    assert laptop.heading() == "Where you are signed in"
    rows = laptop.page.locator("#sessions tbody tr")
    assert rows.count() == 2
    assert "(this session)" in rows.nth(0).inner_text()
    laptop.check("alice sessions two")

    rows.nth(1).get_by_role("button", name=re.compile("^Sign out")).focus()
    laptop.page.keyboard.press("Enter")
    laptop.page.wait_for_url(re.compile("/me/sessions/"))
    assert "That session is signed out." in laptop.page.locator(".messages").inner_text()
    assert laptop.page.locator("#sessions tbody tr").count() == 1
    laptop.check("alice sessions one left")

    phone.goto("/me/")
    phone.page.wait_for_url(re.compile("/signin/"))
