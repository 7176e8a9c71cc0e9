"""The main sign-in journeys of docs/design.md section 3, in Chromium, as the demo people walk them.

Every screen on the way passes the Content Security Policy and axe-core's WCAG 2.2 AA rules and is
saved as a screenshot (folder ``journeys`` under the screenshot folder). The applications people
land in are not ours: the browser answers for them with a stub page, so nothing leaves the machine.
"""

import re
import time

import pytest

from .conftest import PHONE

pytestmark = pytest.mark.browser

DEMO_PASSWORD = "Mitel-demo-2026!"
MEETINGS = "https://meetings.mitel.example/"
ERROR_RED = "rgb(179, 0, 30)"  # --error in portal.css


@pytest.fixture
def browse(open_browser):
    def open_(viewport=None):
        return open_browser(viewport or {"width": 1280, "height": 800}, folder="journeys")

    return open_


def focused(browsing) -> str:
    return browsing.page.evaluate("document.activeElement.name || document.activeElement.id || ''")


def session_cookie(browsing) -> dict:
    [cookie] = [c for c in browsing.page.context.cookies() if c["name"] == "sessionid"]
    return cookie


def enter_username(browsing, username: str, query: str = "?app=miteam-meetings") -> None:
    browsing.goto(f"/signin/{query}")
    browsing.page.get_by_label("Username").fill(username)
    with browsing.page.expect_navigation():  # Next may wait for the passkey script's challenge
        browsing.page.get_by_role("button", name="Next").click()


def test_alice_signs_in_with_the_keyboard_and_lands_in_the_application(browse):
    alice = browse()
    alice.goto("/signin/?app=miteam-meetings")
    assert alice.heading() == "Sign in to MiTeam Meetings"
    assert focused(alice) == "username"
    alice.check("alice 1 username")

    alice.page.keyboard.type("alice@acme.example")
    alice.page.keyboard.press("Enter")
    alice.page.wait_for_url(re.compile("/signin/authenticate/"))
    assert alice.heading() == "Enter your password"
    assert focused(alice) == "password"
    alice.page.keyboard.type("not her password")
    with alice.page.expect_navigation():
        alice.page.keyboard.press("Enter")
    password = alice.page.get_by_label("Password")
    assert password.get_attribute("aria-invalid") == "true"
    assert password.evaluate("e => getComputedStyle(e).borderTopColor") == ERROR_RED
    error = alice.page.locator("#id_password-error").text_content()
    assert " ".join(error.split()) == "Error: The username or password is incorrect."
    assert alice.page.title().startswith("Error: ")
    alice.check("alice 2 wrong password")

    password.fill(DEMO_PASSWORD)
    alice.page.keyboard.press("Enter")
    alice.page.wait_for_url(re.compile("/signin/stay/"))
    assert alice.heading() == "Stay signed in?"
    alice.check("alice 3 stay signed in")

    alice.page.get_by_role("button", name="Yes").click()
    alice.page.wait_for_url(MEETINGS)
    alice.screenshot("alice 4 in the application")
    assert session_cookie(alice)["expires"] > time.time() + 29 * 86400
    alice.goto("/signout/")
    assert "You are signed in as alice@acme.example" in alice.page.locator("main").inner_text()


def test_bob_picks_one_of_his_accounts_on_a_phone(browse):
    bob = browse(PHONE)
    enter_username(bob, "bob@multi.example")
    assert bob.heading() == "Multiple accounts located"
    bob.check("bob 1 multiple accounts")

    account_number = bob.page.get_by_label("Or type the Account Number or Partner Label")
    account_number.fill("100003")  # Contoso's: not one of bob's
    with bob.page.expect_navigation():
        bob.page.get_by_role("button", name="Next").click()
    summary = bob.page.get_by_role("alert")
    assert "We couldn't find that account" in summary.inner_text()
    assert account_number.get_attribute("aria-invalid") == "true"
    bob.check("bob 2 not his account")

    summary.get_by_role("link").click()
    assert focused(bob) == "account_number"
    account_number.fill("")
    bob.page.get_by_label("Account", exact=True).select_option(label="Globex Partners (100002)")
    bob.page.get_by_role("button", name="Next").click()
    bob.page.wait_for_url(re.compile("/signin/authenticate/"))
    assert "Globex Partners" in bob.page.locator("main").inner_text()
    bob.page.get_by_label("Password").fill(DEMO_PASSWORD)
    bob.page.get_by_role("button", name="Sign in").click()
    bob.page.wait_for_url(re.compile("/signin/stay/"))
    bob.check("bob 3 stay signed in")

    bob.page.get_by_role("button", name="No").click()
    bob.page.wait_for_url(MEETINGS)
    assert session_cookie(bob)["expires"] == -1  # ends with the browser


def test_carol_whose_password_expired_must_change_it_before_going_on(browse):
    carol = browse()
    enter_username(carol, "carol@acme.example")
    carol.check("carol 1 password")
    carol.page.get_by_label("Password").fill(DEMO_PASSWORD)
    with carol.page.expect_navigation():
        carol.page.get_by_role("button", name="Sign in").click()
    assert carol.heading() == "Your password has expired"
    assert carol.page.get_by_role("button", name="Later").count() == 0
    carol.check("carol 2 password expired")

    new_password = carol.page.get_by_label("New password", exact=True)
    assert new_password.get_attribute("autocomplete") == "new-password"
    new_password.fill("a quiet harbour at dawn 2026")
    carol.page.get_by_label("New password again").fill("a quiet harbour at dawn 2026")
    with carol.page.expect_navigation():
        carol.page.get_by_role("button", name="Change password").click()
    assert carol.heading() == "Stay signed in?"
    carol.page.get_by_role("button", name="No").click()
    carol.page.wait_for_url(MEETINGS)
    carol.screenshot("carol 3 in the application")


def test_mallory_is_told_she_is_locked_out_and_how_to_get_back_in(browse):
    mallory = browse()
    enter_username(mallory, "mallory@acme.example")
    assert mallory.heading() == "Enter your password"  # the same screen as everyone's
    mallory.page.get_by_label("Password").fill(DEMO_PASSWORD)
    with mallory.page.expect_response(lambda r: r.request.method == "POST") as answer:
        mallory.page.get_by_role("button", name="Sign in").click()
    assert answer.value.status == 429
    assert mallory.heading() == "Your sign-in is locked"
    assert "too many wrong passwords for this username" in mallory.page.get_by_role("alert").inner_text()
    assert "You can try again after" in mallory.page.locator("main").inner_text()
    assert mallory.page.get_by_role("link", name="Reset your password").is_visible()
    mallory.check("mallory locked out")


def test_erin_may_enter_her_password_instead_of_single_sign_on(browse):
    erin = browse()
    enter_username(erin, "erin@contoso.example")
    assert erin.heading() == "Sign in with your company account"
    assert erin.page.get_by_role("button", name="Single Sign On").is_visible()
    erin.check("erin 1 single sign on")

    with erin.page.expect_navigation():
        erin.page.get_by_role("button", name="Enter your password").click()
    assert erin.heading() == "Enter your password"
    assert erin.page.get_by_role("button", name="Use Single Sign On instead").is_visible()
    erin.check("erin 2 password instead")
    erin.page.get_by_label("Password").fill(DEMO_PASSWORD)
    erin.page.get_by_role("button", name="Sign in").click()
    erin.page.get_by_role("button", name="Yes").click()
    erin.page.wait_for_url(MEETINGS)


def test_keyboard_users_can_skip_to_the_form_and_always_see_where_they_are(browse):
    user = browse()
    user.goto("/signin/")
    page = user.page
    describe = ("(() => { const e = document.activeElement; return e.tagName.toLowerCase() + ':'"
                " + (e.name || e.getAttribute('href') || e.textContent.trim()); })()")
    order = [page.evaluate(describe)]  # the username field has the focus on arrival
    for key in ["Tab", "Tab", "Shift+Tab", "Shift+Tab", "Shift+Tab"]:
        page.keyboard.press(key)
        order.append(page.evaluate(describe))
        ring = page.evaluate("(() => { const s = getComputedStyle(document.activeElement);"
                             " return [s.outlineStyle, s.outlineWidth]; })()")
        assert ring == ["solid", "3px"], f"no visible focus on {order[-1]}"
    assert order == ["input:username", "button:Next", "button:Sign in with a passkey",
                     "button:Next", "input:username", "a:#main"]
    box = page.get_by_role("link", name="Skip to main content").bounding_box()
    assert box["y"] >= 0 and box["height"] > 0, "the skip link shows when focused"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")
    assert page.evaluate(describe) == "input:username"


def test_the_checks_catch_an_inline_style_that_the_policy_blocks(browse):
    user = browse()
    user.goto("/signin/")
    user.page.evaluate("() => { const s = document.createElement('style');"
                       " s.textContent = 'body { color: red }'; document.head.append(s); }")
    user.page.wait_for_function("() => window.__cspViolations.length > 0")
    with pytest.raises(AssertionError, match="Content Security Policy violations"):
        user.check("never saved", screenshot=False)


def test_the_checks_catch_an_accessibility_violation(browse):
    user = browse()
    user.goto("/signin/")
    user.page.evaluate("() => document.querySelector('form').append(document.createElement('select'))")
    with pytest.raises(AssertionError, match="select-name"):
        user.check("never saved", screenshot=False)


def test_a_long_username_wraps_on_the_narrowest_phone_without_sideways_scrolling(browse):
    user = browse({"width": 320, "height": 640})  # WCAG 1.4.10 reflow: 320 CSS pixels
    long_name = "firstname.middlename.lastname.department@subsidiary.acme-dental.example"
    enter_username(user, long_name)
    assert user.heading() == "Enter your password"
    assert long_name in user.page.locator(".username-chip").inner_text()
    user.check("long username at 320 px")
