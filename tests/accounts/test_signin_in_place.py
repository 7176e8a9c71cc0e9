"""A step's page as the reply to the previous step's POST (``in_place``, which static/js/forms.js
adds to every step's form): the browser saves a redirect, the server a request. The page names its
own URL, which the script puts in the address bar, so Reload and Back ask for it with a GET
(tests/browser/test_in_place.py); its forms post there, and the language switcher comes back there.
Without ``in_place`` (no script) every step still answers with a redirect."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.signin import DEMO_PASSWORD, flow_id, start

pytestmark = pytest.mark.django_db

APP = "miteam-meetings"


@pytest.fixture(autouse=True)
def cached_sessions(settings):
    settings.SESSION_CACHE_ENABLED = True


def next_in_place(client, username: str, **params):
    start(client, app=APP, **params)
    return client.post(f"/signin/{client.signin_query}", {"flow": "", "username": username,
                                                          "in_place": "1"})


def post_in_place(client, slug: str, **fields):
    return client.post(f"/signin/{slug}/", {"flow": flow_id(client), "in_place": "1", **fields})


def page_url(response) -> str | None:
    found = re.search(r'<body data-page-url="([^"]*)">', response.content.decode())
    return found.group(1) or None if found else None


def form_actions(response) -> list[str]:
    return re.findall(r'<form method="post" action="([^"]*)"', response.content.decode())


def test_next_answers_with_the_password_page_which_names_its_own_url(demo):
    client = Client()
    response = next_in_place(client, "alice@acme.example")
    assert response.status_code == 200
    assert response.templates[0].name == "signin/password.html"
    assert page_url(response) == "/signin/authenticate/"
    assert "/signin/authenticate/" in form_actions(response)
    assert f'name="flow" value="{flow_id(client)}"' in response.content.decode()
    # The language switcher comes back to the step, not to the link, which would start again.
    assert 'name="next" value="/signin/authenticate/"' in response.content.decode()


def test_a_whole_sign_in_in_place_ends_where_a_redirected_one_does(demo):
    client = Client()
    next_in_place(client, "alice@acme.example")
    response = post_in_place(client, "authenticate", password=DEMO_PASSWORD)
    assert response.status_code == 200
    assert response.templates[0].name == "signin/stay.html"
    assert page_url(response) == "/signin/stay/"
    assert form_actions(response) == ["/signin/stay/"]
    response = post_in_place(client, "stay", stay="yes")
    assert response.status_code == 302
    assert response["Location"].startswith("https://meetings.mitel.example")
    assert client.get("/me/").status_code == 200  # signed in


def test_a_page_asked_for_again_at_its_own_url_is_the_same_step(demo):
    """What Reload does once the script has put the step's URL in the address bar."""
    client = Client()
    in_place = next_in_place(client, "alice@acme.example")
    again = client.get("/signin/authenticate/")
    assert again.status_code == 200
    assert again.templates[0].name == in_place.templates[0].name == "signin/password.html"
    assert page_url(again) is None  # at its own URL: nothing to put in the address bar


def test_a_refused_password_is_answered_at_the_same_url_with_nothing_moved(demo):
    client = Client()
    next_in_place(client, "alice@acme.example")
    response = post_in_place(client, "authenticate", password="Not-the-password-2026")
    assert response.status_code == 200
    assert response.templates[0].name == "signin/password.html"
    assert page_url(response) is None


def test_without_the_script_every_step_still_redirects(demo):
    client = Client()
    start(client, app=APP)
    response = client.post(f"/signin/{client.signin_query}", {"flow": "", "username": "alice@acme.example"})
    assert (response.status_code, response["Location"]) == (302, "/signin/authenticate/")
    response = client.post("/signin/authenticate/", {"flow": flow_id(client), "password": DEMO_PASSWORD,
                                                     "in_place": "0"})
    assert (response.status_code, response["Location"]) == (302, "/signin/stay/")


def test_a_step_whose_page_reads_its_link_is_still_a_redirect(demo):
    """The code page reads ?backup=1: it is never rendered at another step's URL."""
    client = Client()
    next_in_place(client, "trent@acme.example")
    response = post_in_place(client, "authenticate", password=DEMO_PASSWORD)
    assert (response.status_code, response["Location"]) == (302, "/signin/code/")


def test_the_account_picker_is_rendered_in_place_and_posts_to_its_own_url(demo):
    client = Client()
    response = next_in_place(client, "bob@multi.example")
    assert response.status_code == 200
    assert response.templates[0].name == "signin/account.html"
    assert page_url(response) == "/signin/account/"
    assert "/signin/account/" in form_actions(response)


def test_a_sign_in_in_place_makes_two_requests_fewer_and_two_queries_fewer(demo):
    Client().get(f"/signin/?app={APP}")  # the application's cache entry

    def count(action) -> int:
        with CaptureQueriesContext(connection) as captured:
            action()
        return len(captured)

    client = Client()
    counts = {"page": count(lambda: start(client, app=APP)),
              "username": count(lambda: next_in_place(client, "alice@acme.example")),
              "password": count(lambda: post_in_place(client, "authenticate", password=DEMO_PASSWORD)),
              "stay": count(lambda: post_in_place(client, "stay", stay="yes"))}
    # The pages in place make no query of their own: the flow has loaded the accounts already.
    on_postgres = connection.vendor == "postgresql"
    assert counts == {"page": 0, "username": 4, "password": 4 if on_postgres else 5,
                      "stay": 2 if on_postgres else 7}
