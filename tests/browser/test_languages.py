"""Every sign-in screen and Personal Information page in each of the six languages, in Chromium.

The browser asks for the language (Accept-Language); each screen must be in it (``<html lang>``,
no English heading), pass axe-core's WCAG 2.2 AA rules and the Content Security Policy, and fit a
phone without scrolling sideways (German's long words). The switcher and ui_locales are tested too.
"""

import pytest

from .conftest import PHONE

pytestmark = pytest.mark.browser

DEMO_PASSWORD = "Mitel-demo-2026!"
LANGUAGES = ["en", "fr", "de", "es", "it", "nl"]
# The English headings, which no other language may show.
ENGLISH_HEADINGS = {"Sign in to Mitel", "Multiple accounts located", "Enter your password",
                    "Stay signed in?", "Sign in with your company account", "Your sign-in is locked",
                    "Your password has expired", "Verify code", "Forgot your password?",
                    "Personal Information", "Where you are signed in", "Two-step verification",
                    "Change your password", "Sign out"}


def submit(browsing, button: str = "main form[method=post] button[type=submit]") -> None:
    with browsing.page.expect_navigation():
        browsing.page.locator(button).first.click()


def username(browsing, name: str) -> None:
    browsing.goto("/signin/")
    browsing.page.locator("input[name=username]").fill(name)
    submit(browsing)


def password(browsing, text: str = DEMO_PASSWORD) -> None:
    browsing.page.locator("input[name=password]").fill(text)
    submit(browsing)


def screens(browsing):
    """Each screen, reached by what a user does: (name, browsing)."""
    browsing.goto("/signin/")
    yield "username"
    submit(browsing)
    yield "username missing"
    username(browsing, "bob@multi.example")
    yield "multiple accounts"
    browsing.page.locator("input[name=account_number]").fill("999999")
    submit(browsing)
    yield "multiple accounts not found"
    username(browsing, "alice@acme.example")
    yield "password"
    password(browsing, "not the password")
    yield "password wrong"
    password(browsing)
    yield "stay signed in"
    browsing.page.context.clear_cookies()
    username(browsing, "erin@contoso.example")
    yield "single sign on or password"
    username(browsing, "frank@initech.example")
    yield "single sign on only"
    username(browsing, "mallory@acme.example")
    password(browsing)
    yield "locked out"
    username(browsing, "carol@acme.example")
    password(browsing)
    yield "password expired"
    username(browsing, "trent@acme.example")
    password(browsing)
    yield "verify code"
    browsing.goto("/password/forgot/")
    yield "forgot password"
    username(browsing, "dave@acme.example")
    password(browsing)
    yield "password expiring"
    submit(browsing, "main button[value=later]")
    submit(browsing, "main button[value=no]")
    yield "personal information"
    browsing.goto("/me/sessions/")
    yield "sessions"
    browsing.goto("/me/mfa/")
    yield "two-step verification"
    browsing.goto("/password/change/")
    yield "change password"
    browsing.goto("/signout/")
    yield "sign out"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_screen_is_in_the_browsers_language_and_passes_axe_on_a_phone(open_browser, language):
    browsing = open_browser(PHONE, folder=f"languages/{language}", width_name="360",
                            locale=language)
    seen = 0
    for name in screens(browsing):
        assert browsing.page.locator("html").get_attribute("lang") == language, name
        if language != "en":
            assert browsing.heading() not in ENGLISH_HEADINGS, f"{name}: {browsing.heading()!r}"
        browsing.check(f"{language} {name}")
        seen += 1
    assert seen == 19


def test_the_switcher_changes_the_language_and_keeps_it(open_browser):
    browsing = open_browser(locale="en")
    browsing.goto("/signin/")
    browsing.page.locator("#language-switcher").select_option("de")
    with browsing.page.expect_navigation():
        browsing.page.locator(".language-switcher button").click()
    assert browsing.heading() == "Anmeldung bei Mitel"
    assert browsing.page.url.endswith("/signin/")
    username(browsing, "alice@acme.example")
    assert browsing.heading() == "Passwort eingeben"  # kept in the cookie, whatever the browser asks


def test_an_application_asking_for_french_gets_french(open_browser):
    browsing = open_browser(locale="en")
    browsing.goto("/signin/?app=miteam-meetings&ui_locales=fr-CA%20en")
    assert browsing.heading() == "Connexion à MiTeam Meetings"
    username(browsing, "alice@acme.example")
    assert browsing.heading() == "Saisissez votre mot de passe"
