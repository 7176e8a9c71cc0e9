"""The rule list beside the new-password field, ticked by its script in a real browser (Chromium)."""

import os
import re
import shutil

import pytest
from django.test import Client

from tests.conftest import require_service
from tests.factories import UserFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def page(monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the test's own database calls are
    # still synchronous (Django's documented switch for such callers).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    executable = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    require_service("Chromium", executable is not None)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield browser.new_page()
        browser.close()


def open_change_page(page, live_server, user) -> list[str]:
    client = Client()
    client.force_login(user)
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                               "url": live_server.url}])
    console = []
    page.on("console", lambda message: console.append(message.text))
    page.goto(f"{live_server.url}/password/change/")
    return console


def test_the_rules_tick_as_the_user_types(page, live_server):
    from playwright.sync_api import expect

    console = open_change_page(page, live_server, UserFactory(username="pat@acme.example"))

    def rule(code):
        return page.locator(f'li[data-rule="{code}"]')

    met, unmet = re.compile(r"\bis-met\b"), re.compile(r"\bis-unmet\b")
    page.fill("#id_new_password1", "pat mitel")
    expect(rule("length")).to_have_class(unmet)
    expect(rule("context")).to_have_class(unmet)
    expect(rule("length").locator("[data-rule-state]")).to_have_text("Not yet:")
    page.fill("#id_new_password1", "purple otters sang at noon")
    expect(rule("length")).to_have_class(met)
    expect(rule("context")).to_have_class(met)
    expect(rule("length").locator("[data-rule-state]")).to_have_text("Done:")
    expect(rule("common")).not_to_have_class(met)  # the server alone checks the blocklist
    page.fill("#id_new_password2", "purple otters")
    expect(rule("match")).to_have_class(unmet)
    page.fill("#id_new_password2", "purple otters sang at noon")
    expect(rule("match")).to_have_class(met)
    assert not [text for text in console if "Content Security Policy" in text]


def test_length_counts_characters_as_the_server_does(page, live_server):
    from playwright.sync_api import expect

    open_change_page(page, live_server, UserFactory(username="pat@acme.example"))
    page.fill("#id_new_password1", "🙂" * 14 + "x")  # 15 characters, 29 UTF-16 code units
    expect(page.locator('li[data-rule="length"]')).to_have_class(re.compile(r"\bis-met\b"))
    page.fill("#id_new_password1", "🙂" * 14)
    expect(page.locator('li[data-rule="length"]')).to_have_class(re.compile(r"\bis-unmet\b"))


def test_length_counts_visible_characters_and_look_alikes_of_context_words_as_the_server_does(
    page, live_server
):
    from playwright.sync_api import expect

    open_change_page(page, live_server, UserFactory(username="pat@acme.example"))
    length, context = page.locator('li[data-rule="length"]'), page.locator('li[data-rule="context"]')
    met, unmet = re.compile(r"\bis-met\b"), re.compile(r"\bis-unmet\b")
    page.fill("#id_new_password1", "a" + "\u0301" * 16)  # one visible character, 17 code points
    expect(length).to_have_class(unmet)
    page.fill("#id_new_password1", "e\u0301" * 15)  # 15 visible characters
    expect(length).to_have_class(met)
    page.fill("#id_new_password1", "rnitel purple otters")  # "rn" looks like "m"
    expect(context).to_have_class(unmet)
    page.fill("#id_new_password1", "m\u0456tel purple otters")  # Cyrillic і: the server decides
    expect(context).not_to_have_class(met)
    expect(context).not_to_have_class(unmet)
