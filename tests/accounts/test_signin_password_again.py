"""The password page shown again after a refused entry can be sent again (signin/steps/password.py)."""

import re

import pytest
from django.test import Client

from tests.signin import DEMO_PASSWORD, flow_id

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def token_of(response) -> str:
    found = TOKEN.search(response.content.decode())
    assert found, "the page has no form that can be sent"
    return found.group(1)


@pytest.mark.parametrize("first_try", ["", "x" * 5000, "not the password"])
def test_after_an_empty_overlong_or_wrong_password_the_page_shown_again_still_signs_in(demo, first_try):
    browser = Client(enforce_csrf_checks=True)
    page = browser.get("/signin/")
    response = browser.post("/signin/", {"flow": "", "username": "alice@acme.example",
                                         "csrfmiddlewaretoken": token_of(page)})
    assert response["Location"] == "/signin/authenticate/"
    page = browser.get("/signin/authenticate/")
    again = browser.post("/signin/authenticate/", {"flow": flow_id(browser), "password": first_try,
                                                   "csrfmiddlewaretoken": token_of(page)})
    assert again.status_code == 200 and 'name="password"' in again.content.decode()
    done = browser.post("/signin/authenticate/", {"flow": flow_id(browser), "password": DEMO_PASSWORD,
                                                  "csrfmiddlewaretoken": token_of(again)})
    assert (done.status_code, done["Location"]) == (302, "/signin/stay/")
