"""Searches and filters that used to answer 500 answer 400 with the reason, or a result (SECURITY.md 37).

Run on SQLite and on PostgreSQL (DATABASE_URL): psycopg refuses NUL, SQLite does not.
"""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

CHANGELISTS = ["/admin/accounts/user/", "/admin/accounts/auditevent/", "/admin/accounts/mitelaccount/"]


@pytest.fixture(params=["support@mitel.example", "grace@acme.example"])
def portal(request, demo) -> Client:
    """Mitel support, and an Authorized Contact (grace, Decision Maker of Acme)."""
    client = Client(raise_request_exception=False)
    client.force_login(demo[request.param])
    return client


def test_a_search_that_opens_a_quote_finds_what_follows_it(demo):
    client = Client(raise_request_exception=False)
    client.force_login(demo["support@mitel.example"])
    response = client.get("/admin/accounts/user/", {"q": "'globex"})
    assert response.status_code == 200
    assert "bob@multi.example" in response.content.decode()  # a member of Globex Partners
    assert client.get("/admin/accounts/user/", {"q": '"globex'}).status_code == 200
    assert client.get("/admin/accounts/user/", {"q": "'"}).status_code == 200


@pytest.mark.parametrize("path", CHANGELISTS)
@pytest.mark.parametrize("query", [{"q": "acme\x00"}, {"account": "100001\x00"}, {"username": "alice\x00"},
                                   {"kind": "sign_in\x00"}, {"q\x00": "x"}])
def test_a_nul_in_a_search_or_filter_is_a_bad_request(portal, path, query):
    response = portal.get(path, query)
    assert response.status_code == 400
    assert "cannot contain the NUL character" in response.content.decode()


@pytest.mark.parametrize("value", ["99999999999999999999", "٢٠٢٦", "20260", "-1"])
def test_a_date_out_of_range_is_a_bad_request(portal, value):
    response = portal.get("/admin/accounts/auditevent/", {"created_at__year": value})
    assert response.status_code == 400
    assert "That date is not one the Connect Portal can show" in response.content.decode()
    month = portal.get("/admin/accounts/auditevent/",
                       {"created_at__year": "2026", "created_at__month": "123"})
    assert month.status_code == 400


def test_a_date_in_range_still_drills_down(portal):
    assert portal.get("/admin/accounts/auditevent/", {"created_at__year": "2026"}).status_code == 200
    response = portal.get("/admin/accounts/auditevent/",
                          {"created_at__year": "1999", "created_at__month": "2"})
    assert response.status_code == 200
