"""Every sign-in screen, fetched with the test client: Content Security Policy and accessible markup.

The browser suite (tests/browser/) proves the same pages in Chromium with axe-core; these tests need
no browser, so they run everywhere and say precisely which page broke which rule.
"""

import re
from html.parser import HTMLParser

import pytest
from django.test import Client

from tests.factories import PASSWORD

DEMO_PASSWORD = "Mitel-demo-2026!"


class Page(HTMLParser):
    """The elements of an HTML page: (tag, attributes) in document order, and the inline scripts."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.title = ""
        self._in_title = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        self._in_title = tag == "title"

    def handle_endtag(self, tag):
        self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data

    def find(self, tag: str | None = None, **attrs) -> list[dict]:
        return [
            a for t, a in self.elements
            if (tag is None or t == tag) and all(a.get(k.rstrip("_")) == v for k, v in attrs.items())
        ]

    @property
    def ids(self) -> set[str]:
        return {a["id"] for _, a in self.elements if a.get("id")}


def flow_id(response) -> str:
    return re.search(r'name="flow" value="([^"]+)"', response.content.decode()).group(1)


def post_step(client: Client, response, data: dict, url: str = "/signin/authenticate/"):
    return client.post(url, {"flow": flow_id(response), **data}, follow=True)


def next_with(client: Client, username: str, query: str = ""):
    page = client.get(f"/signin/{query}")
    return client.post(f"/signin/{query}", {"flow": flow_id(page), "username": username}, follow=True)


def screens(client: Client) -> dict:
    """Each sign-in screen, reached the way a user reaches it, by name."""
    pages = {}
    pages["username"] = client.get("/signin/?app=miteam-meetings")
    pages["username, notices"] = client.get("/signin/?app=no-such-app&next=//evil.example&account=%25")
    pages["username, error"] = client.post("/signin/", {"flow": flow_id(pages["username"]), "username": ""})
    pages["account"] = next_with(client, "bob@multi.example", "?app=miteam-meetings")
    pages["account, error"] = post_step(client, pages["account"], {"account_number": "999999"},
                                        "/signin/account/")
    pages["password"] = next_with(client, "alice@acme.example")
    pages["password, error"] = post_step(client, pages["password"], {"password": "wrong"})
    pages["stay"] = post_step(client, pages["password"], {"password": DEMO_PASSWORD})
    client.cookies.clear()
    pages["sso"] = next_with(client, "erin@contoso.example")
    pages["password, sso offered"] = post_step(client, pages["sso"], {"action": "password"})
    client.cookies.clear()
    pages["sso unavailable"] = post_step(client, next_with(client, sso_without_connection()), {},
                                         url="/sso/start/")
    client.cookies.clear()
    pages["locked out"] = post_step(client, next_with(client, "mallory@acme.example"),
                                    {"password": DEMO_PASSWORD})
    client.cookies.clear()
    pages["signed out"] = client.get("/signout/")
    return pages


def sso_without_connection() -> str:
    """A user of an Entra ID account whose SSO connection is not set up yet: the unavailable page."""
    from accounts.services.domains import claim_domain, mark_verified
    from tests.factories import MembershipFactory, MitelAccountFactory, UserFactory

    account = MitelAccountFactory(name="Umbrella Corp", authentication="azure_ad")
    mark_verified(claim_domain(account, "umbrella.example"), method="staff")
    user = UserFactory(username="ursula@umbrella.example")
    MembershipFactory(account=account, user=user)
    return user.username


@pytest.fixture
def pages(demo, client):
    return screens(client)


def test_the_walk_reaches_every_sign_in_screen(pages):
    expected = {
        "username": "signin/username.html",
        "username, notices": "signin/username.html",
        "username, error": "signin/username.html",
        "account": "signin/account.html",
        "account, error": "signin/account.html",
        "password": "signin/password.html",
        "password, error": "signin/password.html",
        "stay": "signin/stay.html",
        "sso": "signin/sso.html",
        "password, sso offered": "signin/password.html",
        "sso unavailable": "sso/refused.html",
        "locked out": "signin/locked_out.html",
        "signed out": "signin/signout.html",
    }
    assert {name: pages[name].templates[0].name for name in expected} == expected


def test_every_sign_in_page_sends_a_content_security_policy_without_unsafe_inline(pages):
    for name, response in pages.items():
        policy = response.headers.get("Content-Security-Policy", "")
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
        assert directives.get("default-src") == "'self'", name
        assert directives.get("style-src") == "'self'", name
        # The nonce is in the header only on pages that use it (Django's LazyNonce).
        assert re.fullmatch(r"'self'( 'nonce-[^']+')?", directives.get("script-src", "")), name
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, name


def test_no_sign_in_page_has_inline_style_or_unnonced_script(pages):
    for name, response in pages.items():
        page = Page(response.content.decode())
        assert not page.find("style"), f"{name}: <style> element"
        assert not [a for _, a in page.elements if "style" in a], f"{name}: style attribute"
        assert not [a for _, a in page.elements if any(k.startswith("on") for k in a)], \
            f"{name}: event handler attribute"
        assert not [a for _, a in page.elements if (a.get("href") or "").startswith("javascript:")], name
        nonce = re.search(r"'nonce-([^']+)'|$", response.headers["Content-Security-Policy"]).group(1)
        for script in page.find("script"):
            if script.get("type") == "application/json":
                continue  # a data block (json_script): never run, so no script under the CSP
            assert script.get("src") or (nonce and script.get("nonce") == nonce), \
                f"{name}: inline script without the page's nonce"


def test_every_page_declares_its_language_a_title_and_one_heading(pages):
    for name, response in pages.items():
        page = Page(response.content.decode())
        assert page.find("html", lang="en"), name
        assert page.title.strip(), name
        assert len(page.find("h1")) == 1, name
        assert page.find("main", id="main") and page.find("a", href="#main"), f"{name}: skip link"


def test_every_input_has_a_label_and_every_description_exists(pages):
    for name, response in pages.items():
        page = Page(response.content.decode())
        labelled = {a["for"] for a in page.find("label") if a.get("for")}
        for tag, attrs in page.elements:
            if tag in {"input", "select", "textarea"} and attrs.get("type") != "hidden" \
                    and "hidden" not in attrs:
                assert attrs.get("id") in labelled, f"{name}: {attrs} has no label"
            for ref in (attrs.get("aria-describedby") or "").split():
                assert ref in page.ids, f"{name}: aria-describedby={ref} points at nothing"


@pytest.mark.parametrize(
    ("screen", "field", "autocomplete"),
    [
        ("username", "username", "username"),
        ("password", "password", "current-password"),
        ("account", "account_number", "off"),
    ],
)
def test_inputs_tell_the_browser_what_to_fill_in(pages, screen, field, autocomplete):
    page = Page(pages[screen].content.decode())
    assert [a.get("autocomplete") for a in page.find(name=field)] == [autocomplete]


def test_password_page_tells_password_managers_the_username_without_posting_it(pages):
    page = Page(pages["password"].content.decode())
    [hint] = page.find("input", autocomplete="username")
    assert hint["value"] == "alice@acme.example" and "hidden" in hint and "name" not in hint


@pytest.mark.parametrize(
    ("screen", "field", "message"),
    [
        ("username, error", "username", "Enter your username."),
        ("password, error", "password", "The username or password is incorrect."),
        ("account, error", "account_number", "We couldn"),
    ],
)
def test_a_wrong_field_is_outlined_marked_invalid_and_its_error_announced(pages, screen, field, message):
    html = pages[screen].content.decode()
    page = Page(html)
    [widget] = page.find(name=field)
    assert widget["aria-invalid"] == "true"
    [error] = page.find("p", id=widget["aria-describedby"])
    assert "error" in error["class"].split()
    assert [a for a in page.find("div") if "field--error" in (a.get("class") or "").split()]
    assert page.title.startswith("Error: ")
    assert page.find(role="alert")
    assert message in html


def test_a_form_of_several_fields_gets_an_error_summary_linking_to_the_wrong_field(pages):
    page = Page(pages["account, error"].content.decode())
    [summary] = page.find("div", role="alert")
    assert "error-summary" in summary["class"]
    assert page.find("a", href="#id_account_number")


def test_pages_without_errors_do_not_say_error(pages):
    for name in ("username", "account", "password", "stay", "sso"):
        page = Page(pages[name].content.decode())
        assert not page.title.startswith("Error"), name
        assert not page.find(role="alert"), name
        assert not [a for _, a in page.elements if a.get("aria-invalid")], name


def test_the_card_names_the_application_being_signed_in_to(pages):
    assert "Sign in to MiTeam Meetings" in pages["username"].content.decode()
    assert "Sign in to <strong>MiTeam Meetings</strong>" in pages["account"].content.decode()


@pytest.mark.django_db
def test_signed_in_sign_out_page_has_no_inline_style_either(client):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="pat@example.com"))
    response = client.get("/signout/")
    page = Page(response.content.decode())
    assert "pat@example.com" in response.content.decode()
    assert not [a for _, a in page.elements if "style" in a] and not page.find("style")
    assert PASSWORD not in response.content.decode()


def test_the_stylesheets_use_only_custom_properties_they_define():
    """An undefined var() makes its whole declaration void: a button with no background, say."""
    from pathlib import Path

    import django

    # The Connect Portal's sheet also uses the variables of Django's own admin stylesheets.
    admin_css = Path(django.__file__).parent / "contrib" / "admin" / "static" / "admin" / "css"
    django_defined = set()
    for sheet in admin_css.glob("*.css"):
        django_defined |= set(re.findall(r"(--[\w-]+)\s*:", sheet.read_text()))
    for sheet in (Path(__file__).resolve().parents[2] / "static" / "css").glob("*.css"):
        css = sheet.read_text()
        defined = set(re.findall(r"(--[\w-]+)\s*:", css))
        if sheet.name == "admin.css":
            defined |= django_defined
        used = set(re.findall(r"var\(\s*(--[\w-]+)\s*[,)]", css))
        assert used <= defined, (sheet.name, sorted(used - defined))
