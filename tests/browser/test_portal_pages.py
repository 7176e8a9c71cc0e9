"""Every Connect Portal page an Authorized Contact or support uses, at 360 px and 1280 px, in Chromium.

Each page passes the Content Security Policy (no violation, no console error), axe-core's WCAG 2.2
AA rules, and never scrolls sideways (the document is no wider than the window); then it is saved
as ``NN-portal-<page>-<width>.png`` (``make screenshots`` writes them to docs/screenshots/).
"""

import re

import pytest

from accounts.models import MitelAccount, User
from sso.models import LinkedIdentity, SsoConnection

from .conftest import DESKTOP, PHONE

pytestmark = pytest.mark.browser

DEMO_PASSWORD = "Mitel-demo-2026!"
WIDTHS = [("360", PHONE), ("1280", DESKTOP)]


def sign_in(browsing, username: str, next_url: str = "/admin/") -> None:
    """Through the sign-in flow, as a person does, ending on ``next_url``."""
    browsing.goto(f"/signin/?app=connect-portal&next={next_url}")
    browsing.page.get_by_label("Username").fill(username)
    with browsing.page.expect_navigation():
        browsing.page.get_by_role("button", name="Next").click()
    password_instead = browsing.page.get_by_role("button", name="Enter your password")
    if password_instead.count():  # an SSO account that also takes passwords (Contoso)
        password_instead.click()
    browsing.page.get_by_label("Password").fill(DEMO_PASSWORD)
    browsing.page.get_by_role("button", name="Sign in").click()
    with browsing.page.expect_navigation():
        browsing.page.get_by_role("button", name="Yes").click()
    assert browsing.page.url.endswith(next_url), browsing.page.url


def visit(browsing, name: str, path: str, heading: str) -> None:
    browsing.goto(path)
    assert browsing.heading() == heading, f"{name}: {browsing.page.url}"
    browsing.check(name)


LINKS_UNDER_SOMETHING = """() => {
  const hidden = [];
  for (const link of document.querySelectorAll('#content a[href]')) {
    if (!link.getClientRects().length) continue;  // not shown (display: none)
    link.scrollIntoView({block: 'center', inline: 'center'});
    const box = link.getClientRects()[0];
    const top = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
    if (!top || !(link === top || link.contains(top))) {
      hidden.push(link.textContent.trim() + ' under ' + (top ? top.outerHTML.slice(0, 80) : 'nothing'));
    }
  }
  return hidden;
}"""


def assert_every_link_can_be_tapped(browsing) -> None:
    """No link of the page's content lies under another element (a tap would miss it)."""
    assert browsing.page.evaluate(LINKS_UNDER_SOMETHING) == [], browsing.page.url


# The Support staff group's permissions (migrations 0003 and later; tests/portal/test_support.py): a
# live-server test database is emptied between tests, and seed_demo makes the group without them.
SUPPORT_PERMISSIONS = [
    ("accounts", "view_user"), ("accounts", "view_mitelaccount"), ("accounts", "view_membership"),
    ("accounts", "view_auditevent"), ("accounts", "unlock_user"), ("accounts", "reset_user_mfa"),
    ("accounts", "send_password_reset"), ("sso", "view_ssoconnection"),
    ("sso", "view_linkedidentity"), ("sso", "delete_linkedidentity"),
]


@pytest.fixture
def support_staff(demo):
    from django.contrib.auth.models import Group, Permission

    group = Group.objects.get(name="Support staff")
    for app_label, codename in SUPPORT_PERMISSIONS:
        group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return demo["support@mitel.example"]


@pytest.fixture
def contoso_contact(demo):
    """erin, made a Decision Maker of Contoso (Entra ID), whose SSO connection the demo sets up."""
    contoso = MitelAccount.objects.get(account_number="100003")
    erin = demo["erin@contoso.example"]
    erin.memberships.filter(account=contoso).update(is_decision_maker=True)
    connection = SsoConnection.objects.get(account=contoso)
    LinkedIdentity.objects.create(user=erin, issuer=connection.issuer, subject="erin-sub")
    return erin


@pytest.mark.parametrize(("width_name", "viewport"), WIDTHS)
def test_every_page_a_contact_uses_passes_the_policy_axe_and_reflow(
        open_browser, demo, contoso_contact, width_name, viewport):
    grace = open_browser(viewport, width_name=width_name)
    sign_in(grace, "grace@acme.example")
    assert grace.heading() == "Your Mitel accounts"
    assert_every_link_can_be_tapped(grace)
    grace.check("21 portal home contact")
    alice = User.objects.get(username="alice@acme.example")
    acme = MitelAccount.objects.get(account_number="100001")
    visit(grace, "22 portal users contact", "/admin/accounts/user/?account=100001", "Users")
    visit(grace, "23 portal user contact", f"/admin/accounts/user/{alice.pk}/change/", "Edit user")
    visit(grace, "24 portal account contact", f"/admin/accounts/mitelaccount/{acme.pk}/change/",
          "View Mitel account")
    visit(grace, "25 portal audit contact", "/admin/accounts/auditevent/", "Audit events")
    visit(grace, "26 portal invitations contact", "/admin/accounts/invitation/", "Invitations")
    visit(grace, "27 portal domains contact", "/admin/accounts/domain/", "Domains")
    visit(grace, "28 personal information", "/me/", "Personal Information")
    visit(grace, "29 sessions", "/me/sessions/", "Where you are signed in")

    erin = open_browser(viewport, width_name=width_name)
    sign_in(erin, "erin@contoso.example")
    connection = SsoConnection.objects.get(account__account_number="100003")
    for name, path in [("30 portal sso connection", f"/admin/sso/ssoconnection/{connection.pk}/change/"),
                       ("31 portal linked identities", "/admin/sso/linkedidentity/")]:
        erin.goto(path)
        erin.check(name)

    alice_browser = open_browser(viewport, width_name=width_name)
    alice_browser.goto("/signin/?app=connect-portal")
    alice_browser.page.get_by_label("Username").fill("alice@acme.example")
    alice_browser.page.get_by_role("button", name="Next").click()
    alice_browser.page.get_by_label("Password").fill(DEMO_PASSWORD)
    alice_browser.page.get_by_role("button", name="Sign in").click()
    alice_browser.page.get_by_role("button", name="Yes").click()
    visit(alice_browser, "32 portal no access", "/admin/", "No access to the Connect Portal")
    with alice_browser.page.expect_navigation():
        alice_browser.page.get_by_role("button", name="Sign out").click()
    assert "You have signed out." in alice_browser.page.locator(".messages").inner_text()
    alice_browser.check("33 signed out message")


@pytest.mark.parametrize(("width_name", "viewport"), WIDTHS)
def test_every_page_support_uses_passes_the_policy_axe_and_reflow(open_browser, support_staff, width_name,
                                                                  viewport):
    support = open_browser(viewport, width_name=width_name)
    sign_in(support, "support@mitel.example")
    assert support.heading() == "Support"
    assert_every_link_can_be_tapped(support)
    support.check("34 portal home support")
    mallory = User.objects.get(username="mallory@acme.example")
    visit(support, "35 portal search support", "/admin/accounts/user/?q=100001", "Users")
    visit(support, "36 portal user support", f"/admin/accounts/user/{mallory.pk}/change/", "View user")
    visit(support, "37 portal audit support", "/admin/accounts/auditevent/?username=mallory@acme.example",
          "Audit events")
    visit(support, "38 portal blocked addresses", "/admin/accounts/addressblock/", "Blocked addresses")
    visit(support, "39 portal accounts support", "/admin/accounts/mitelaccount/", "Mitel accounts")
    visit(support, "40 portal linked identities support", "/admin/sso/linkedidentity/", "Linked identities")


@pytest.mark.parametrize(("width_name", "viewport"), WIDTHS)
def test_support_finds_mallory_by_account_number_and_unlocks_her(open_browser, support_staff, width_name,
                                                                 viewport):
    support = open_browser(viewport, width_name=width_name)
    sign_in(support, "support@mitel.example")
    page = support.page
    page.get_by_label("Find a user").fill("100001")
    with page.expect_navigation():
        page.get_by_role("button", name="Search").click()
    row = page.locator("#result_list tbody tr", has_text="mallory@acme.example")
    locked = row.locator("td.field-locked_out")
    assert locked.inner_text() == "Yes"
    box = locked.bounding_box()
    assert box["x"] + box["width"] <= viewport["width"], "Locked out must be in sight without scrolling"
    header = page.locator("#result_list thead th.column-locked_out")
    assert header.inner_text().strip() == "Locked out"
    support.check("41 support finds mallory")
    with page.expect_navigation():
        row.get_by_role("link", name="mallory@acme.example").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Unlock mallory@acme.example").click()
    assert re.search(r"Unlocked mallory@acme\.example", page.locator(".messagelist").inner_text())
    assert page.locator("#lockout").count() == 0 or "Locked out" not in page.locator("#lockout").inner_text()
    support.check("42 support unlocked mallory")
    page.goto(support.base_url + "/admin/")
    assert "Nobody is locked out." in page.locator("main").inner_text()


def test_an_office_manager_on_a_phone_sees_the_account_name_on_one_line(open_browser, demo):
    grace = open_browser(PHONE)
    sign_in(grace, "grace@acme.example")
    name = grace.page.get_by_role("link", name="Acme Dental", exact=True)
    assert name.bounding_box()["height"] < 40  # one line, not one letter a line
