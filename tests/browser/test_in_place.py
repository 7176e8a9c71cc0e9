"""A step's page as the reply to the previous step's POST, in Chromium: the script puts the step's
URL in the address bar, so Reload and Back ask for pages with a GET and never post a form again
(tests/accounts/test_signin_in_place.py checks the server's side)."""

import re

import pytest

pytestmark = pytest.mark.browser

DEMO_PASSWORD = "Mitel-demo-2026!"


@pytest.fixture
def alice(open_browser):
    return open_browser(folder="in-place")


def documents(browsing) -> list[str]:
    """Every document request from now on, as "METHOD path"."""
    seen: list[str] = []
    browsing.page.on("request", lambda request: request.resource_type == "document" and seen.append(
        f"{request.method} {re.sub(r'^https?://[^/]+', '', request.url)}"))
    return seen


def test_next_and_the_password_answer_with_the_next_page_at_its_own_url(alice):
    seen = documents(alice)
    alice.goto("/signin/?app=miteam-meetings")
    alice.page.get_by_label("Username").fill("alice@acme.example")
    with alice.page.expect_navigation():
        alice.page.get_by_role("button", name="Next").click()
    assert alice.heading() == "Enter your password"
    assert alice.page.url.endswith("/signin/authenticate/")
    alice.check("1 password page in place", screenshot=False)
    # The POST was answered with the page itself: no redirect, no second request.
    assert seen == ["GET /signin/?app=miteam-meetings", "POST /signin/?app=miteam-meetings"]

    alice.page.reload()
    assert alice.heading() == "Enter your password"
    assert seen[-1] == "GET /signin/authenticate/"  # Reload asks again, it does not post Next again

    alice.page.get_by_label("Password").fill(DEMO_PASSWORD)
    with alice.page.expect_navigation():
        alice.page.keyboard.press("Enter")
    assert alice.heading() == "Stay signed in?"
    assert alice.page.url.endswith("/signin/stay/")
    assert seen[-1] == "POST /signin/authenticate/"
    alice.check("2 stay page in place", screenshot=False)

    alice.page.reload()
    assert alice.heading() == "Stay signed in?"
    assert seen[-1] == "GET /signin/stay/"  # the password is not posted again

    posts = [entry for entry in seen if entry.startswith("POST")]
    alice.page.go_back()  # to the password page's entry: asked with a GET, which sends it on
    assert alice.heading() == "Stay signed in?"
    assert seen[-2:] == ["GET /signin/authenticate/", "GET /signin/stay/"]  # and its redirect
    alice.page.go_forward()
    assert alice.heading() == "Stay signed in?"
    assert [entry for entry in seen if entry.startswith("POST")] == posts  # nothing posted again
    alice.page.get_by_role("button", name="Yes").click()
    alice.page.wait_for_url("https://meetings.mitel.example/")
