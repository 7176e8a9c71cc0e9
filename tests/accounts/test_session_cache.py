"""Sessions with the cache on (``SESSION_CACHE_ENABLED``, as with Redis): the sign-in flow's
sessions are read from the cache, signed-in ones from the database, so ending them still works at
once (SECURITY.md 26, 27, 51)."""

import pytest
from django.test import Client

from accounts.models import UserSession
from accounts.sessions import end_sessions
from tests.signin import DEMO_PASSWORD, enter_password, enter_username, sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def cached_sessions(settings):
    settings.SESSION_CACHE_ENABLED = True


def test_the_key_a_flow_had_before_the_password_opens_nothing_afterwards(demo):
    client = Client()
    enter_username(client, "alice@acme.example", app="miteam-meetings")
    before = client.cookies["sessionid"].value
    assert enter_password(client, DEMO_PASSWORD)["Location"] == "/signin/stay/"
    after = client.cookies["sessionid"].value
    assert after != before
    assert not UserSession.objects.filter(session_key=before).exists()
    replay = Client()
    replay.cookies["sessionid"] = before
    assert replay.get("/signin/stay/")["Location"] == "/signin/"  # no flow: start again
    assert client.get("/signin/stay/").status_code == 200


def test_ending_a_signed_in_session_in_the_database_signs_the_browser_out_at_once(demo):
    client = Client()
    sign_in(client, "alice@acme.example", app="miteam-meetings")
    assert client.get("/me/").status_code == 200
    assert end_sessions(demo["alice@acme.example"]) == 1
    assert client.get("/me/").status_code == 302


def test_a_flow_continues_from_the_database_when_the_cache_lost_it(demo):
    from django.core.cache import cache

    client = Client()
    enter_username(client, "alice@acme.example", app="miteam-meetings")
    cache.clear()  # Redis flushed or restarted: the database is the record
    assert client.get("/signin/authenticate/").status_code == 200
    assert enter_password(client, DEMO_PASSWORD)["Location"] == "/signin/stay/"
