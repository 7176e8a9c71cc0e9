"""The sign-in page a new visitor first sees is rendered once per link and language, then filled in
(``signin/first_page.py``, issue 17): it must be the very page a full render gives, with each
visitor's own CSRF token and flow, and never for someone who should see something else."""

import re

import pytest
from django.test import Client

from accounts.models import Application
from signin import first_page
from tests.signin import DEMO_PASSWORD, rendering

pytestmark = pytest.mark.django_db

LINKS = [
    "/signin/",
    "/signin/?app=miteam-meetings",
    "/signin/?app=no-such-app",
    "/signin/?app=%22%27%3C%3E%26",
    "/signin/?app=miteam-meetings&account=100001",
    "/signin/?app=miteam-meetings&account=%3Cscript%3E",
    "/signin/?app=miteam-meetings&ui_locales=de",
]
# Links made for one visit: rendered each time, never kept.
ONE_VISIT_LINKS = [
    "/signin/?app=miteam-meetings&next=https://evil.example/steal",
    "/signin/?app=miteam-meetings&login_hint=alice%40acme.example",
    "/signin/?login_hint=%22%3E%3Cb%3Ebold",
    "/signin/?next=/me/&x=%22%27%3C%3E%26",
    "/signin/?app=miteam-meetings&utm_source=mail",
]
TOKEN = re.compile(r'(name="csrfmiddlewaretoken" value="|"csrfToken": ")[A-Za-z0-9]{64}"')
FLOW = re.compile(r'name="flow" value="[A-Za-z0-9_-]+"')


def without_tokens(content: bytes) -> str:
    return FLOW.sub("flow", TOKEN.sub("token", content.decode()))


@pytest.fixture
def renders(monkeypatch):
    """How many times the page went through the template engine."""
    calls = []
    real = first_page._render_with_placeholders

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(first_page, "_render_with_placeholders", counted)
    return calls


def rendered_in_full(monkeypatch, link: str, language: str):
    with monkeypatch.context() as patched:
        patched.setattr(first_page, "is_plain_first_visit", lambda request: False)
        return Client(HTTP_ACCEPT_LANGUAGE=language).get(link)


@pytest.mark.parametrize("language", ["en", "fr", "de"])
@pytest.mark.parametrize("link", LINKS)
def test_the_page_from_memory_is_the_page_rendered_in_full(demo, monkeypatch, renders, link, language):
    Client(HTTP_ACCEPT_LANGUAGE=language).get(link)
    served = Client(HTTP_ACCEPT_LANGUAGE=language).get(link)
    full = rendered_in_full(monkeypatch, link, language)

    assert len(renders) == 1, "the second visitor's page came from memory"
    assert served.status_code == full.status_code == 200
    assert without_tokens(served.content) == without_tokens(full.content)
    assert sorted(served.headers) == sorted(full.headers)
    for header in ("Content-Type", "Cache-Control", "Content-Security-Policy", "Vary"):
        assert served.headers.get(header) == full.headers.get(header), header
    assert "csrftoken" in served.cookies


@pytest.mark.parametrize("link", ONE_VISIT_LINKS)
def test_a_link_made_for_one_visit_is_rendered_each_time(demo, monkeypatch, renders, link):
    pages = [Client().get(link) for _ in range(2)]
    full = rendered_in_full(monkeypatch, link, "en")
    assert renders == [] and not first_page._pages
    assert without_tokens(pages[1].content) == without_tokens(full.content)


def test_every_visitor_gets_a_token_and_a_flow_of_their_own(demo):
    pages = [Client().get("/signin/?app=miteam-meetings") for _ in range(3)]
    tokens = {TOKEN.search(page.content.decode()).group(0) for page in pages}
    flows = {FLOW.search(page.content.decode()).group(0) for page in pages}
    assert len(tokens) == len(flows) == 3
    for page in pages:
        assert first_page.CSRF_PLACEHOLDER not in page.content.decode()
        assert first_page.FLOW_PLACEHOLDER not in page.content.decode()


def test_a_visitor_served_from_memory_signs_in_with_its_token(demo):
    Client().get("/signin/?app=miteam-meetings")
    browser = Client(enforce_csrf_checks=True)
    page = browser.get("/signin/?app=miteam-meetings").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([A-Za-z0-9]{64})"', page).group(1)
    flow = re.search(r'name="flow" value="([A-Za-z0-9_-]+)"', page).group(1)

    answer = browser.post("/signin/?app=miteam-meetings",
                          {"csrfmiddlewaretoken": token, "flow": flow, "username": "alice@acme.example"})
    assert answer.status_code == 302 and answer.url == "/signin/authenticate/"
    answer = browser.post("/signin/authenticate/", {"csrfmiddlewaretoken": token,
                                                    "flow": browser.session["signin_flow"]["flow_id"],
                                                    "password": DEMO_PASSWORD})
    assert answer.status_code == 302 and answer.url == "/signin/stay/"


def test_a_token_of_another_visitor_is_refused(demo):
    Client().get("/signin/")
    stranger = Client(enforce_csrf_checks=True)
    stranger.get("/signin/")
    victim_page = Client(enforce_csrf_checks=True).get("/signin/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([A-Za-z0-9]{64})"', victim_page).group(1)
    refused = stranger.post("/signin/", {"csrfmiddlewaretoken": token, "username": "alice@acme.example"})
    assert refused.status_code == 403


def test_a_renamed_application_shows_its_new_name_at_once(demo, renders):
    assert "Sign in to MiTeam Meetings" in Client().get("/signin/?app=miteam-meetings").content.decode()
    application = Application.objects.get(slug="miteam-meetings")
    application.name = "MiTeam Meetings & Chat"
    application.save()
    page = Client().get("/signin/?app=miteam-meetings").content.decode()
    assert "Sign in to MiTeam Meetings &amp; Chat" in page
    assert len(renders) == 2


def test_someone_with_a_message_waiting_sees_it(demo, renders):
    """Signing out leaves "You have signed out" for the next page: that page is rendered, not kept."""
    Client().get("/signin/")
    browser = Client()
    browser.post("/signin/", {"flow": "", "username": "alice@acme.example"})
    browser.post("/signin/authenticate/", {"flow": browser.session["signin_flow"]["flow_id"],
                                           "password": DEMO_PASSWORD})
    browser.post("/signin/stay/", {"flow": browser.session["signin_flow"]["flow_id"], "stay": "yes"})
    browser.post("/signout/")
    page = browser.get("/signin/").content.decode()
    assert "You have signed out" in page
    assert "You have signed out" not in Client().get("/signin/").content.decode()
    assert len(renders) == 1, "neither the page with the message nor a cookieless page after it"


def test_a_signed_in_person_is_sent_on_not_shown_the_page(demo):
    browser = Client()
    browser.force_login(demo["alice@acme.example"])
    Client().get("/signin/?app=miteam-meetings")
    answer = browser.get("/signin/?app=miteam-meetings")
    assert answer.status_code == 302


def test_memory_holds_at_most_size_pages(demo, monkeypatch):
    monkeypatch.setattr(first_page, "SIZE", 5)
    for n in range(12):
        assert Client().get(f"/signin/?app=app-{n}").status_code == 200
    assert 0 < len(first_page._pages) <= 5


def test_a_very_long_link_is_rendered_each_time(demo, renders):
    link = "/signin/?app=" + "a" * first_page.LONGEST
    for _ in range(2):
        assert Client().get(link).status_code == 200
    assert len(renders) == 0 and not first_page._pages


def test_each_language_has_its_own_page(demo):
    link = "/signin/?app=miteam-meetings"
    assert '<html lang="en">' in Client(HTTP_ACCEPT_LANGUAGE="en").get(link).content.decode()
    french = Client(HTTP_ACCEPT_LANGUAGE="fr").get(link).content.decode()
    assert '<html lang="fr">' in french and "Suivant" in french
    assert '<html lang="en">' in Client(HTTP_ACCEPT_LANGUAGE="en").get(link).content.decode()


def test_a_message_kept_in_the_cookie_is_shown(demo):
    browser = Client()
    browser.force_login(demo["alice@acme.example"])
    browser.post("/signout/")
    browser.cookies.pop("sessionid", None)
    assert "messages" in browser.cookies
    Client().get("/signin/")
    assert "You have signed out" in browser.get("/signin/").content.decode()



def test_a_link_exactly_as_long_as_the_longest_kept_is_kept(demo, renders):
    link = "/signin/?app=" + "a" * (first_page.LONGEST - len("/signin/?app="))
    assert len(link) == first_page.LONGEST
    for _ in range(2):
        assert Client().get(link).status_code == 200
    assert len(renders) == 1


def test_the_passkey_script_of_a_page_from_memory_gets_the_visitors_own_token(demo):
    """The page's passkey settings carry a CSRF token too (sent back as X-CSRFToken): it must be
    this visitor's, not the one of the visitor whose visit filled the memory."""
    Client().get("/signin/?app=miteam-meetings")
    browser = Client(enforce_csrf_checks=True)
    page = browser.get("/signin/?app=miteam-meetings").content.decode()
    token = re.search(r'"csrfToken": "([A-Za-z0-9]{64})"', page).group(1)
    answer = browser.post("/signin/?app=miteam-meetings", {"flow": "", "username": "alice@acme.example"},
                          HTTP_X_CSRFTOKEN=token)
    assert answer.status_code == 302 and answer.url == "/signin/authenticate/"


# Renders whose placeholders do not come out as expected: each is served as rendered, never kept.
FORM = '<input name="flow" value="{{ flow.flow_id }}">'
BROKEN_PAGES = {
    "no CSRF token": FORM + "{% for n in notices %}{{ n }}{% endfor %}",
    "the flow's id twice": ('{% csrf_token %}' + FORM
                            + '{{ flow.flow_id }}{% for n in notices %}{{ n }}{% endfor %}'),
    "the placeholder itself": ('{% csrf_token %}' + FORM
                               + '{{ placeholder }}{% for n in notices %}{{ n }}{% endfor %}'),
}


@pytest.mark.parametrize("broken", BROKEN_PAGES)
def test_a_page_whose_placeholders_do_not_come_out_is_served_as_rendered_and_not_kept(demo, monkeypatch,
                                                                                       renders, broken):
    from signin.steps.username import UsernameStep

    monkeypatch.setattr(UsernameStep, "render", rendering(BROKEN_PAGES[broken]))
    link = "/signin/?app=no-such-app"  # a notice: "This sign-in link names an application we don't know."
    for _ in range(2):
        browser = Client()
        page = browser.get(link).content.decode()
        assert "names an application we don" in page
        assert first_page.CSRF_PLACEHOLDER not in page
        if broken != "no CSRF token":
            assert re.search(r'name="csrfmiddlewaretoken" value="[A-Za-z0-9]{64}"', page)
    assert len(renders) == 2 and not first_page._pages
