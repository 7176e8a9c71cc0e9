"""The writes that issue 17 made cheaper still hold: a lockout count that another attempt raced is
counted again under the row locks, never lost (SECURITY.md 8, 41); a sign-in's "Signed in" event
and last_login are written with its session, once (SECURITY.md 38)."""

import pytest
from django.db import connection
from django.db.models import F
from django.test import Client
from django.utils import timezone

from accounts.models import AuditEvent, LockoutCounter, UserSession
from accounts.services import lockouts
from tests.signin import DEMO_PASSWORD, enter_password, enter_username, stay_signed_in

pytestmark = pytest.mark.django_db

WRONG = "Wrong-password-2026!"
ON_POSTGRES = connection.vendor == "postgresql"


def test_an_attempt_counted_between_the_read_and_the_write_is_not_lost(demo, monkeypatch):
    read = lockouts._lock_counters
    raced = []

    def another_attempt_in_between(buckets, username):
        rows = read(buckets, username)
        if not raced:  # the first read: another process counts a failure on the same counters now
            raced.append(True)
            LockoutCounter.objects.filter(pk__in=[row.pk for row in rows]).update(
                failures=F("failures") + 1, last_failure_at=timezone.now())
        return rows

    monkeypatch.setattr(lockouts, "_lock_counters", another_attempt_in_between)
    client = Client()
    enter_username(client, "carol@acme.example", app="miteam-meetings")
    assert enter_password(client, WRONG).status_code == 200
    counters = LockoutCounter.objects.filter(key__in=["carol@acme.example", "127.0.0.1"])
    # Each counter holds both failures: the other attempt's, and this one's, counted again.
    assert sorted(counters.values_list("scope", "failures")) == [("address", 2), ("username", 2)]


def test_a_count_nobody_raced_is_written_once(demo):
    client = Client()
    enter_username(client, "carol@acme.example", app="miteam-meetings")
    enter_password(client, WRONG)
    enter_password(client, WRONG)
    counters = LockoutCounter.objects.filter(key__in=["carol@acme.example", "127.0.0.1"])
    assert sorted(counters.values_list("scope", "failures")) == [("address", 2), ("username", 2)]


def test_a_sign_in_whose_flow_row_is_gone_is_saved_and_recorded_once(demo, settings):
    settings.SESSION_CACHE_ENABLED = True  # the flow's session is read from the cache
    alice = demo["alice@acme.example"]
    client = Client()
    enter_username(client, "alice@acme.example", app="miteam-meetings")
    assert enter_password(client, DEMO_PASSWORD)["Location"] == "/signin/stay/"
    UserSession.objects.all().delete()  # the flow's row, gone (the cache still holds the flow)
    assert stay_signed_in(client).status_code == 302
    assert client.get("/me/").status_code == 200
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.SIGN_IN, user=alice).count() == 1
    alice.refresh_from_db()
    assert alice.last_login is not None
    assert UserSession.objects.filter(user_id=alice.pk).count() == 1


def test_a_sign_in_writes_last_login_and_its_event_with_the_session(demo):
    alice = demo["alice@acme.example"]
    before = alice.last_login
    client = Client()
    enter_username(client, "alice@acme.example", app="miteam-meetings")
    enter_password(client, DEMO_PASSWORD)
    stay_signed_in(client)
    alice.refresh_from_db()
    assert alice.last_login is not None and alice.last_login != before
    [event] = AuditEvent.objects.filter(kind=AuditEvent.Kind.SIGN_IN, user=alice)
    assert (event.method, event.account.account_number, event.application.slug) == (
        "password", "100001", "miteam-meetings")
    session = UserSession.objects.get(user_id=alice.pk)
    assert client.cookies["sessionid"].value == session.session_key


def test_a_finished_sign_in_cannot_be_finished_again(demo):
    """Once it has signed the user in, the flow is gone: opening one of its pages again neither
    signs in a second time nor records a second "Signed in"."""
    client = Client()
    enter_username(client, "alice@acme.example", app="miteam-meetings")
    enter_password(client, DEMO_PASSWORD)
    assert stay_signed_in(client)["Location"] == "https://meetings.mitel.example/"
    assert client.get("/signin/stay/")["Location"] == "/signin/"
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.SIGN_IN).count() == 1


def failures_of(*keys: str) -> list[tuple[str, int]]:
    return sorted(LockoutCounter.objects.filter(key__in=keys).values_list("scope", "failures"))


@pytest.mark.parametrize("flow_row_gone", [False, True], ids=["one statement", "transaction"])
def test_a_sign_in_forgets_the_usernames_failures_with_its_session(demo, settings, flow_row_gone):
    settings.SESSION_CACHE_ENABLED = True
    client = Client()
    enter_username(client, "alice@acme.example", app="miteam-meetings")
    enter_password(client, WRONG)
    assert enter_password(client, DEMO_PASSWORD)["Location"] == "/signin/stay/"
    assert failures_of("alice@acme.example", "127.0.0.1") == [("address", 1), ("username", 1)]
    if flow_row_gone:  # the save cannot update the flow's row: the transaction inserts instead
        UserSession.objects.all().delete()
    assert stay_signed_in(client).status_code == 302
    # The username's failures are forgotten; the address's are not (a spraying address keeps them).
    assert failures_of("alice@acme.example", "127.0.0.1") == [("address", 1)]


def test_a_sign_in_whose_session_is_not_saved_keeps_the_usernames_failures(demo):
    from django.db import OperationalError

    client = Client(raise_request_exception=False)
    enter_username(client, "alice@acme.example", app="miteam-meetings")
    enter_password(client, WRONG)
    enter_password(client, DEMO_PASSWORD)

    def connection_lost(execute, sql, params, many, context):
        if 'UPDATE "accounts_usersession"' in sql:
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(connection_lost):
        assert stay_signed_in(client).status_code == 503
    assert failures_of("alice@acme.example") == [("username", 1)]


def test_a_right_password_gives_its_attempt_back(demo, settings):
    """Counted before the hash, given back after it: on PostgreSQL in the statement that saves the
    flow's session, elsewhere at once. Either way only the wrong password stays counted."""
    settings.SESSION_CACHE_ENABLED = True
    client = Client()
    enter_username(client, "alice@acme.example", app="miteam-meetings")
    enter_password(client, WRONG)
    enter_password(client, WRONG)
    assert enter_password(client, DEMO_PASSWORD)["Location"] == "/signin/stay/"
    assert failures_of("alice@acme.example", "127.0.0.1") == [("address", 2), ("username", 2)]


@pytest.mark.skipif(not ON_POSTGRES, reason="elsewhere the attempt is given back at once")
def test_a_right_password_whose_session_is_not_saved_stays_counted(demo):
    from django.db import OperationalError

    client = Client(raise_request_exception=False)
    enter_username(client, "alice@acme.example", app="miteam-meetings")

    def connection_lost(execute, sql, params, many, context):
        if 'UPDATE "accounts_usersession"' in sql:
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(connection_lost):
        assert enter_password(client, DEMO_PASSWORD).status_code == 503
    # Nothing given back, as for an attempt left unsettled: one failure, not a lost count.
    assert failures_of("alice@acme.example") == [("username", 1)]
