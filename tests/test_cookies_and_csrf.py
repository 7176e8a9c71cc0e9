"""Cookies are SameSite and a POST without its CSRF token is refused (SECURITY.md 28)."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_a_post_without_a_csrf_token_is_refused():
    client = Client(enforce_csrf_checks=True)
    client.get("/signin/")
    response = client.post("/signin/", {"username": "alice@acme.example", "flow": ""})
    assert response.status_code == 403
    assert "signin_flow" not in client.session


def test_the_session_and_csrf_cookies_are_samesite_and_http_only_where_they_can_be():
    client = Client(enforce_csrf_checks=True)
    page = client.get("/signin/")
    token = page.cookies["csrftoken"]
    assert token["samesite"] == "Lax"
    response = client.post("/signin/", {"username": "alice@acme.example", "flow": "",
                                        "csrfmiddlewaretoken": token.value})
    session = response.cookies["sessionid"]
    assert session["samesite"] == "Lax" and session["httponly"]
