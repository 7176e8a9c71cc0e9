"""grace, Decision Maker of Acme Dental, imports three users from a CSV file in the Connect Portal, in
Chromium. Her first file has one bad row: the preview shows the error on that row and offers no
confirmation (a file is imported whole or not at all); she corrects the row, previews again and
confirms. Each import page passes the Content Security Policy and axe-core's WCAG 2.2 AA rules at
a phone's width (360 px) and a desktop's (1280 px)."""

import re

import pytest

from accounts.models import Membership, Role, User

from .conftest import DESKTOP, PHONE

pytestmark = pytest.mark.browser

DEMO_PASSWORD = "Mitel-demo-2026!"
DEMO_PORTAL = "http://127.0.0.1:8000/"
HEADER = "username,first_name,last_name,email,account,role\n"
GOOD = ("hana@acme.example,Hana,Hill,hana@acme.example,100001,Technical Contact\n"
        "ivan@acme.example,Ivan,Ito,ivan@acme.example,100001,\n")
BAD_ROW = "alice@acme.example,Alice,Again,alice@acme.example,100001,\n"  # exists already
FIXED_ROW = "jade@acme.example,Jade,Jones,jade@acme.example,100001,Phone Manager\n"


def sign_in_to_the_portal(browsing, username: str = "grace@acme.example") -> None:
    """The sign-in flow from the portal's link; the demo portal's home is the development server's
    address, answered here by a stub, then the live server's portal is opened."""
    browsing.page.route(f"{DEMO_PORTAL}**", lambda route: route.fulfill(
        status=200, content_type="text/html",
        body="<!doctype html><html lang='en'><title>Portal</title><h1>Portal</h1></html>"))
    browsing.goto("/admin/")
    browsing.page.get_by_label("Username").fill(username)
    browsing.page.get_by_role("button", name="Next").click()
    browsing.page.get_by_label("Password").fill(DEMO_PASSWORD)
    browsing.page.get_by_role("button", name="Sign in").click()
    browsing.page.wait_for_url(re.compile("/signin/stay/"))
    browsing.page.get_by_role("button", name="No").click()
    browsing.page.wait_for_url(re.compile("/admin/$"))
    browsing.goto("/admin/")


def preview(browsing, content: str) -> None:
    browsing.page.get_by_label("CSV file").set_input_files(
        {"name": "users.csv", "mimeType": "text/csv", "buffer": content.encode()})
    with browsing.page.expect_navigation():
        browsing.page.get_by_role("button", name="Preview").click()


@pytest.mark.parametrize(("width_name", "viewport"), [("360", PHONE), ("1280", DESKTOP)])
def test_grace_imports_three_users_after_correcting_the_row_the_preview_refused(
        open_browser, width_name, viewport):
    grace = open_browser(viewport, folder="user-import", width_name=width_name)
    sign_in_to_the_portal(grace)
    grace.goto("/admin/accounts/user/")
    grace.page.get_by_role("link", name="Import").click()
    grace.page.wait_for_url(re.compile("/admin/accounts/user/import/$"))
    assert grace.heading() == "Import users"
    grace.check("import users")

    preview(grace, HEADER + GOOD + BAD_ROW)
    assert grace.page.get_by_role("heading", name="Nothing was imported").is_visible()
    rows = grace.page.locator(".import-table tbody tr")
    assert rows.count() == 1
    assert rows.nth(0).locator("th").inner_text().strip() == "3"
    assert "This username already exists" in rows.nth(0).inner_text()
    assert grace.page.get_by_role("button", name="Confirm import").count() == 0
    grace.check("import users row refused")
    assert not User.objects.filter(username__in=["hana@acme.example", "ivan@acme.example"]).exists()

    preview(grace, HEADER + GOOD + FIXED_ROW)
    table = grace.page.locator(".import-table tbody tr")
    assert table.count() == 3
    assert "jade@acme.example" in table.nth(2).inner_text()
    grace.check("import users preview")
    with grace.page.expect_navigation():
        grace.page.get_by_role("button", name="Confirm import").click()
    assert "Imported 3 users" in grace.page.locator(".messagelist").inner_text()

    new = {"hana@acme.example": [Role.TECHNICAL_CONTACT], "ivan@acme.example": [],
           "jade@acme.example": [Role.PHONE_MANAGER]}
    for username, roles in new.items():
        membership = Membership.objects.get(user__username=username)
        assert membership.account.account_number == "100001" and membership.roles == roles
        assert not membership.user.has_usable_password()
    alice = User.objects.get(username="alice@acme.example")
    assert alice.last_name != "Again"
