"""The password and "Stay signed in?" pages, as the reply to the step before's POST, are rendered
once per page, language and application, then filled in with each person's CSRF token, flow and
username (``signin/first_page.py``, ``serve_in_place``; issue 17). A page from memory must be the
very page a full render gives that person, and never show one person's anything to the next."""

import re

import pytest
from django.test import Client

from signin import first_page
from signin.steps.password import PasswordStep
from signin.steps.stay import StaySignedInStep
from tests.signin import DEMO_PASSWORD, flow_id, rendering, start

pytestmark = pytest.mark.django_db

APP = "miteam-meetings"
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="[A-Za-z0-9]{64}"')
FLOW = re.compile(r'name="flow" value="[A-Za-z0-9_-]+"')


@pytest.fixture(autouse=True)
def cached_sessions(settings):
    settings.SESSION_CACHE_ENABLED = True


@pytest.fixture
def renders(monkeypatch):
    """The in-place pages that went through the template engine, by step."""
    calls = []
    real = first_page._render_in_place

    def counted(request, step, flow):
        calls.append(step.name)
        return real(request, step, flow)

    monkeypatch.setattr(first_page, "_render_in_place", counted)
    return calls


def without_tokens(content: bytes) -> str:
    return FLOW.sub("flow", TOKEN.sub("token", content.decode()))


def password_page(username: str, language: str = "en", app: str = APP, **client_options):
    client = Client(HTTP_ACCEPT_LANGUAGE=language, **client_options)
    page = start(client, app=app).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = client.post(f"/signin/{client.signin_query}", {"flow": "", "username": username,
                                                              "in_place": "1", "csrfmiddlewaretoken": token})
    assert response.status_code == 200
    return client, response


def stay_page(username: str, language: str = "en", app: str = APP):
    client, _ = password_page(username, language, app)
    response = client.post("/signin/authenticate/", {"flow": flow_id(client), "password": DEMO_PASSWORD,
                                                     "in_place": "1"})
    assert response.status_code == 200
    return response


def in_full(monkeypatch, page, *args):
    """The same page rendered through the template engine, nothing kept."""
    with monkeypatch.context() as patched:
        patched.setattr(PasswordStep, "memory_key", lambda self, flow: None)
        patched.setattr(StaySignedInStep, "memory_key", lambda self, flow: None)
        result = page(*args)
    return result[1] if isinstance(result, tuple) else result


# Typed usernames: unknown ones walk the same screens, with whatever was typed (SECURITY.md 1).
@pytest.mark.parametrize("second", ["carol@acme.example", "nobody@nowhere.example",
                                    "o'brien&<b>x</b>\"@acme.example"])
@pytest.mark.parametrize("language", ["en", "de"])
def test_the_password_page_from_memory_is_the_page_rendered_in_full(demo, monkeypatch, renders, second,
                                                                     language):
    password_page("alice@acme.example", language)
    _, served = password_page(second, language)
    full = in_full(monkeypatch, password_page, second, language)

    assert renders == ["password"], "the second person's page came from memory"
    assert without_tokens(served.content) == without_tokens(full.content)
    for header in ("Content-Type", "Cache-Control", "Content-Security-Policy", "Vary"):
        assert served.headers.get(header) == full.headers.get(header), header
    assert "alice" not in served.content.decode()


def test_each_person_gets_their_own_token_flow_and_username(demo, renders):
    first, _ = password_page("alice@acme.example")
    second, served = password_page("grace@acme.example", enforce_csrf_checks=True)
    page = served.content.decode()
    assert renders == ["password"]
    assert f'name="flow" value="{flow_id(second)}"' in page
    assert flow_id(second) != flow_id(first)
    assert 'value="grace@acme.example" autocomplete="username"' in page
    assert "alice" not in page
    # The token on the page is the browser's own: the password goes through Django's CSRF check.
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = second.post("/signin/authenticate/", {"flow": flow_id(second), "password": DEMO_PASSWORD,
                                                     "in_place": "1", "csrfmiddlewaretoken": token})
    assert response.status_code == 200
    assert "Stay signed in?" in response.content.decode()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_stay_page_from_memory_is_the_page_rendered_in_full(demo, monkeypatch, renders, language):
    stay_page("alice@acme.example", language)
    served = stay_page("grace@acme.example", language)
    full = in_full(monkeypatch, stay_page, "grace@acme.example", language)
    assert renders.count("stay") == 1
    assert without_tokens(served.content) == without_tokens(full.content)


def test_pages_are_kept_apart_by_language_and_application(demo, renders):
    password_page("alice@acme.example", "en")
    german = password_page("dave@acme.example", "de")[1].content.decode()
    other_app = password_page("grace@acme.example", "en", app="connect-portal")[1].content.decode()
    assert renders == ["password"] * 3
    assert 'lang="de"' in german
    assert "Mitel Connect Portal" in other_app


def test_a_page_that_names_the_chosen_account_is_rendered_each_time(demo, renders):
    for _ in range(2):
        client, _ = password_page("bob@multi.example")
        response = client.post("/signin/account/", {"flow": flow_id(client), "account": "100002",
                                                    "in_place": "1"})
        assert response.status_code == 200
        assert "100002" in response.content.decode()
    assert renders == []


def test_a_message_to_show_is_never_lost_to_a_page_from_memory(demo, renders):
    stay_page("alice@acme.example")  # the stay page is kept
    client, _ = password_page("carol@acme.example")  # her password has expired
    response = client.post("/signin/authenticate/", {"flow": flow_id(client), "password": DEMO_PASSWORD,
                                                     "in_place": "1"})
    assert response.status_code == 302 and response["Location"] == "/signin/expiry/"
    client.get("/signin/expiry/")
    new = "a brand new passphrase for the expired one 2026"
    response = client.post("/signin/expiry/", {"flow": flow_id(client), "new_password1": new,
                                               "new_password2": new, "in_place": "1"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Stay signed in?" in page
    assert "Your password has been changed." in page
    assert renders.count("stay") == 1  # alice's; carol's was rendered in full


def test_a_page_that_shows_the_username_elsewhere_is_not_kept(demo, monkeypatch, renders):
    leaky = '{% csrf_token %}<input name="flow" value="{{ flow.flow_id }}">{{ username }} {{ flow.username }}'
    monkeypatch.setattr(StaySignedInStep, "render", rendering(leaky))
    for username in ("alice@acme.example", "grace@acme.example"):
        page = stay_page(username).content.decode()
        assert page.count(username) == 2
    assert renders.count("stay") == 2, "rendered, found wanting, not kept"


FORM = '<input name="flow" value="{{ flow.flow_id }}">'
BROKEN_PAGES = {
    "no CSRF token": FORM,
    "no flow id": '{% csrf_token %}<input name="flow" value="">',
    "the placeholder itself": "{% csrf_token %}" + FORM + "{{ placeholder }}",
}


@pytest.mark.parametrize("broken", BROKEN_PAGES)
def test_a_page_whose_placeholders_do_not_come_out_is_served_as_rendered_and_not_kept(demo, monkeypatch,
                                                                                       renders, broken):
    monkeypatch.setattr(StaySignedInStep, "render", rendering(BROKEN_PAGES[broken]))
    for username in ("alice@acme.example", "grace@acme.example"):
        page = stay_page(username).content.decode()
        assert first_page.CSRF_PLACEHOLDER not in page
        if broken != "no CSRF token":
            assert re.search(r'name="csrfmiddlewaretoken" value="[A-Za-z0-9]{64}"', page)
    assert renders.count("stay") == 2
    assert not [key for key in first_page._pages if "stay" in key]


def test_memory_holds_at_most_size_pages(demo, monkeypatch):
    monkeypatch.setattr(first_page, "SIZE", 1)
    for language in ("en", "de", "fr"):
        password_page("alice@acme.example", language)  # the first page, then the password page
        assert len(first_page._pages) == 1
