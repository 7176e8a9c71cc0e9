"""Issue 18 in Chromium: the keyboard alone signs alice, bob and trent in; the show/hide button; a
double click posts once; /me/ on a phone."""

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import LockoutCounter

from .conftest import DESKTOP

pytestmark = pytest.mark.browser

DEMO_PASSWORD = "Mitel-demo-2026!"
PHONE_390 = {"width": 390, "height": 844}


def focused(browsing) -> dict:
    """What has the focus (once something has it): its tag, name, value and type."""
    wait_for_focus(browsing)
    return browsing.page.evaluate("""() => {
        const e = document.activeElement;
        return {tag: e.tagName.toLowerCase(), name: e.getAttribute('name'), value: e.value,
                type: e.getAttribute('type'), cls: e.className};
    }""")


def wait_for_focus(browsing) -> None:
    """As a person waits for the cursor: autofocus is applied once the page has loaded.

    A function, not an expression: Playwright evals an expression again at each poll, which the
    page's Content Security Policy (no unsafe-eval) refuses once the first check has failed."""
    browsing.page.wait_for_function(
        "() => document.activeElement && document.activeElement !== document.body")


def enter(browsing) -> None:
    """Enter, and wait for the page it leads to."""
    wait_for_focus(browsing)
    with browsing.page.expect_navigation():
        browsing.page.keyboard.press("Enter")


def type_and_enter(browsing, text: str) -> None:
    wait_for_focus(browsing)
    browsing.page.keyboard.type(text)
    enter(browsing)


def test_alice_signs_in_with_the_keyboard_alone(open_browser):
    alice = open_browser(DESKTOP)
    alice.goto("/signin/")
    assert focused(alice)["name"] == "username"
    type_and_enter(alice, "alice@acme.example")
    assert focused(alice)["name"] == "password"
    type_and_enter(alice, DEMO_PASSWORD)
    assert alice.heading() == "Stay signed in?"
    assert (focused(alice)["name"], focused(alice)["value"]) == ("stay", "yes")
    enter(alice)
    assert alice.heading() == "Personal Information"


def test_bob_chooses_his_account_with_the_arrow_keys_and_enter(open_browser):
    bob = open_browser(DESKTOP)
    bob.goto("/signin/")
    type_and_enter(bob, "bob@multi.example")
    assert bob.heading() == "Multiple accounts located"
    assert focused(bob)["name"] == "account"
    bob.page.keyboard.press("ArrowDown")  # Acme Dental
    bob.page.keyboard.press("ArrowDown")  # Globex Partners
    enter(bob)
    assert bob.heading() == "Enter your password"
    assert "Globex Partners (100002)" in bob.page.locator(".account-chip").inner_text()
    assert focused(bob)["name"] == "password"
    type_and_enter(bob, DEMO_PASSWORD)
    enter(bob)  # "Stay signed in?": Yes has the focus
    assert bob.heading() == "Personal Information"


def test_trent_gives_his_code_with_the_keyboard_and_a_phone_gets_a_number_pad(open_browser, db):
    device = TOTPDevice.objects.get(user__username="trent@acme.example", confirmed=True)
    trent = open_browser(PHONE_390)
    trent.goto("/signin/")
    type_and_enter(trent, "trent@acme.example")
    type_and_enter(trent, DEMO_PASSWORD)
    assert trent.heading() == "Verify code"
    assert focused(trent)["name"] == "code"
    assert trent.page.locator("input[name=code]").get_attribute("inputmode") == "numeric"
    code = f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"
    type_and_enter(trent, code)
    enter(trent)
    assert trent.heading() == "Personal Information"


def test_after_a_wrong_answer_the_error_summary_has_the_focus(open_browser):
    bob = open_browser(DESKTOP)
    bob.goto("/signin/")
    type_and_enter(bob, "bob@multi.example")
    bob.page.keyboard.press("Tab")
    type_and_enter(bob, "999999")
    # The script moves the focus from the autofocused box to the summary once the page has loaded:
    # wait for it (under load the first focus seen can be the box's).
    bob.page.wait_for_function("() => document.activeElement.classList.contains('error-summary')",
                               timeout=10_000)
    assert "error-summary" in focused(bob)["cls"]
    bob.check("account error focused", screenshot=False)


def test_the_show_button_reveals_the_password_and_says_so(open_browser):
    alice = open_browser(DESKTOP)
    alice.goto("/signin/")
    type_and_enter(alice, "alice@acme.example")
    field = alice.page.locator("input[name=password]")
    toggle = alice.page.get_by_role("button", name="Show password")
    assert toggle.is_visible() and toggle.get_attribute("aria-pressed") == "false"
    alice.page.keyboard.type("secret words")
    alice.page.keyboard.press("Tab")
    assert focused(alice)["tag"] == "button"
    alice.page.keyboard.press("Space")
    assert field.get_attribute("type") == "text" and toggle.get_attribute("aria-pressed") == "true"
    alice.page.keyboard.press("Space")
    assert field.get_attribute("type") == "password" and toggle.get_attribute("aria-pressed") == "false"
    alice.check("password with show button", screenshot=False)


def test_a_double_click_on_sign_in_posts_the_password_once(open_browser):
    alice = open_browser(DESKTOP)
    alice.goto("/signin/")
    type_and_enter(alice, "alice@acme.example")
    posts = []  # the password's (the page's passkey script posts for a challenge of its own)
    alice.page.on("request", lambda r: posts.append(r.url)
                  if r.method == "POST" and r.url.endswith("/signin/authenticate/") else None)
    alice.page.locator("input[name=password]").fill("not the password")
    with alice.page.expect_navigation():
        alice.page.get_by_role("button", name="Sign in", exact=True).dblclick()
    assert len(posts) == 1, posts
    counter = LockoutCounter.objects.get(scope="username", key="alice@acme.example")
    assert counter.failures == 1


def test_the_sso_button_says_where_the_browser_is_going(open_browser):
    frank = open_browser(DESKTOP)
    frank.goto("/signin/")
    type_and_enter(frank, "frank@initech.example")
    button = frank.page.get_by_role("button", name="Single Sign On")
    assert focused(frank)["value"] == "sso"
    # The way out answers "204 No Content", so the browser stays on the page as it was leaving.
    frank.page.route("**/sso/start/", lambda route: route.fulfill(status=204))
    frank.page.keyboard.press("Enter")  # the button has the focus
    status = frank.page.locator("[data-progress-status]")
    status.wait_for(state="visible")
    assert status.inner_text() == "Redirecting to Okta…"
    assert button.get_attribute("aria-disabled") == "true"


def test_personal_information_fits_a_phone(open_browser):
    trent = open_browser(PHONE_390)
    trent.goto("/signin/")
    type_and_enter(trent, "alice@acme.example")
    type_and_enter(trent, DEMO_PASSWORD)
    enter(trent)
    assert trent.heading() == "Personal Information"
    username = trent.page.locator("#username")
    box = username.bounding_box()
    line = trent.page.evaluate(
        "parseFloat(getComputedStyle(document.getElementById('username')).lineHeight)")
    assert box["height"] < 1.5 * line, "the username breaks over two lines"
    card = trent.page.locator("main").bounding_box()
    for table in trent.page.locator(".table-wrap").all():
        wrap = table.bounding_box()
        assert wrap["x"] + wrap["width"] <= card["x"] + card["width"] + 0.5
    trent.check("personal information phone", screenshot=False)


def test_the_buttons_of_a_refusal_keep_their_words_on_one_line_on_a_phone(open_browser):
    from .test_screens import sso_without_connection

    user = open_browser({"width": 360, "height": 740})
    user.goto("/signin/")
    type_and_enter(user, sso_without_connection())
    with user.page.expect_navigation():
        user.page.get_by_role("button", name="Single Sign On").click()
    # As the row is when the identity provider's error offers "Try again" first.
    user.page.evaluate("""() => document.querySelector('.button-row').insertAdjacentHTML(
        'afterbegin', '<a class="button" href="#">Try again</a>')""")
    again = user.page.get_by_role("link", name="Start signing in again")
    line = user.page.evaluate("parseFloat(getComputedStyle(document.body).lineHeight)")
    assert again.bounding_box()["height"] < 2 * line + 24, "the button's words wrap"
