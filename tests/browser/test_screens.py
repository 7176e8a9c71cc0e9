"""Every sign-in screen at a phone's width (360 px) and a desktop's (1280 px), in Chromium.

Each screen passes the Content Security Policy and axe-core's WCAG 2.2 AA rules, does not scroll
sideways, and is saved as ``NN-<screen>-<width>.png``: ``make screenshots`` writes them to
docs/screenshots/, a test run to a temporary folder.
"""

import pytest

from tests.factories import MembershipFactory, MitelAccountFactory, UserFactory

from .conftest import DESKTOP, PHONE

pytestmark = pytest.mark.browser

DEMO_PASSWORD = "Mitel-demo-2026!"


def sso_without_connection() -> str:
    """A user of an Entra ID account whose SSO connection is not set up yet: the unavailable page."""
    from accounts.services.domains import claim_domain, mark_verified

    account = MitelAccountFactory(name="Umbrella Corp", authentication="azure_ad")
    mark_verified(claim_domain(account, "umbrella.example"), method="staff")
    user = UserFactory(username="ursula@umbrella.example")
    MembershipFactory(user=user, account=account)
    return user.username


def next_with(browsing, username: str, query: str = "") -> None:
    browsing.goto(f"/signin/{query}")
    browsing.page.get_by_label("Username").fill(username)
    with browsing.page.expect_navigation():
        browsing.page.get_by_role("button", name="Next").click()


def click(browsing, name: str) -> None:
    with browsing.page.expect_navigation():
        browsing.page.get_by_role("button", name=name).click()


def walk(open_browser, viewport, width_name):
    """Reaches each screen as a user would, yielding (file name, browsing, expected h1)."""
    user = open_browser(viewport, width_name=width_name)
    user.goto("/signin/?app=miteam-meetings")
    yield "01 username", user, "Sign in to MiTeam Meetings"
    click(user, "Next")
    yield "02 username missing", user, "Sign in to MiTeam Meetings"
    user.goto("/signin/?app=no-such-app&next=//evil.example&account=%25")
    yield "03 username link problems", user, "Sign in to Mitel"

    next_with(user, "bob@multi.example", "?app=miteam-meetings")
    yield "04 multiple accounts", user, "Multiple accounts located"
    user.page.get_by_label("Or type the Account Number or Partner Label").fill("GLOBEX-X")
    click(user, "Next")
    yield "05 multiple accounts not found", user, "Multiple accounts located"

    next_with(user, "alice@acme.example", "?app=miteam-meetings")
    yield "06 password", user, "Enter your password"
    user.page.get_by_label("Password").fill("not the password")
    click(user, "Sign in")
    yield "07 password wrong", user, "Enter your password"
    user.page.get_by_label("Password").fill(DEMO_PASSWORD)
    click(user, "Sign in")
    yield "08 stay signed in", user, "Stay signed in?"
    user.page.context.clear_cookies()

    next_with(user, "erin@contoso.example")
    yield "09 single sign on or password", user, "Sign in with your company account"
    click(user, "Enter your password")
    yield "10 password or single sign on", user, "Enter your password"
    next_with(user, "frank@initech.example")
    yield "11 single sign on only", user, "Sign in with your company account"
    next_with(user, sso_without_connection())
    click(user, "Single Sign On")
    yield "12 single sign on unavailable", user, "Single Sign On is not set up for this account yet"

    next_with(user, "mallory@acme.example")
    user.page.get_by_label("Password").fill(DEMO_PASSWORD)
    click(user, "Sign in")
    yield "13 locked out", user, "Your sign-in is locked"

    next_with(user, "carol@acme.example")
    user.page.get_by_label("Password").fill(DEMO_PASSWORD)
    click(user, "Sign in")
    yield "14 password expired", user, "Your password has expired"

    next_with(user, "trent@acme.example")
    user.page.get_by_label("Password").fill(DEMO_PASSWORD)
    click(user, "Sign in")
    yield "15 verify code", user, "Verify code"

    user.goto("/password/forgot/")
    yield "16 forgot password", user, "Forgot your password?"

    next_with(user, "dave@acme.example")
    user.page.get_by_label("Password").fill(DEMO_PASSWORD)
    click(user, "Sign in")
    yield "17 password expiring", user, "Your password will expire in 3 days"
    click(user, "Later")
    click(user, "No")
    user.goto("/password/change/")
    yield "18 change password", user, "Change your password"
    user.goto("/signout/")
    yield "19 sign out", user, "Sign out"
    click(user, "Sign out")
    user.goto("/signout/")
    yield "20 signed out", user, "You have signed out"


@pytest.mark.parametrize(("width_name", "viewport"), [("360", PHONE), ("1280", DESKTOP)])
def test_every_sign_in_screen_passes_the_policy_and_axe_at_phone_and_desktop_width(
        open_browser, width_name, viewport):
    seen = []
    for name, browsing, heading in walk(open_browser, viewport, width_name):
        assert browsing.heading() == heading, name
        browsing.check(name)
        seen.append(name)
    assert len(seen) == 20


@pytest.mark.parametrize(("width_name", "viewport"), [("360", PHONE), ("1280", DESKTOP)])
@pytest.mark.parametrize(("language", "password_label", "sign_in"),
                         [("fr", "Mot de passe", "Se connecter"), ("de", "Passwort", "Anmelden")])
def test_the_username_and_wrong_password_screens_in_french_and_german(
        open_browser, width_name, viewport, language, password_label, sign_in):
    """``01-username-<language>-<width>.png`` and ``07-password-wrong-<language>-<width>.png``."""
    user = open_browser(viewport, width_name=width_name, locale=language)
    user.goto("/signin/?app=miteam-meetings")
    assert user.page.locator("html").get_attribute("lang") == language
    user.check(f"01 username {language}")
    user.page.locator("input[name=username]").fill("alice@acme.example")
    with user.page.expect_navigation():
        user.page.locator("main form button[type=submit]").first.click()
    user.page.get_by_label(password_label, exact=True).fill("not the password")
    click(user, sign_in)
    assert user.page.locator("input[name=password]").get_attribute("aria-invalid") == "true"
    user.check(f"07 password wrong {language}")
