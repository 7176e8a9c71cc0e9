"""Database down: a clear 503 page, nothing half-written, /healthz says so (SECURITY.md 38)."""

import pytest
from django.db import OperationalError, connection
from django.db.backends.utils import CursorWrapper
from django.test import Client

from accounts.models import AuditEvent, User, UserSession
from tests.signin import DEMO_PASSWORD, enter_password, enter_username, stay_signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def database_down(monkeypatch):
    """Every query fails as when the server is gone."""

    def refuse(*args, **kwargs):
        raise OperationalError("could not connect to server: Connection refused")

    def switch():
        monkeypatch.setattr(CursorWrapper, "execute", refuse)
        monkeypatch.setattr(CursorWrapper, "executemany", refuse)

    return switch


def test_pages_say_the_service_is_unavailable(demo, database_down):
    client = Client(raise_request_exception=False)
    database_down()
    response = client.get("/signin/?app=connect-portal")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    page = response.content.decode()
    assert "temporarily unavailable" in page and "Nothing you entered was saved" in page
    assert "Traceback" not in page


def test_healthz_says_the_database_is_down(demo, database_down):
    client = Client(raise_request_exception=False)
    database_down()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "down"


def test_a_failure_half_way_through_a_password_change_writes_nothing(demo, monkeypatch):
    from accounts.services import audit, passwords

    alice = User.objects.get(username="alice@acme.example")
    old_hash = alice.password

    def audit_fails(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(audit, "record", audit_fails)
    with pytest.raises(OperationalError):
        passwords.change_password(alice, "a brand new passphrase for alice")
    alice.refresh_from_db()
    assert alice.password == old_hash
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.PASSWORD_CHANGED).exists()


def test_other_errors_get_a_plain_500_page(demo, monkeypatch):
    from signin import controller

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    client = Client(raise_request_exception=False)
    enter_username(client, "alice@acme.example")
    monkeypatch.setattr(controller, "begin_from_link", broken)
    response = client.get("/signin/")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()


# --- The sign-in and its audit event commit together -------------------------------------------


def signed_in_events() -> int:
    return AuditEvent.objects.filter(kind=AuditEvent.Kind.SIGN_IN).count()


def at_stay_signed_in(demo) -> Client:
    """alice's sign-in, with the password accepted: "Stay signed in?" is all that is left."""
    client = Client(raise_request_exception=False)
    enter_username(client, "alice@acme.example", app="connect-portal")
    assert enter_password(client, DEMO_PASSWORD)["Location"] == "/signin/stay/"
    return client


def test_a_database_error_while_the_session_is_saved_gives_the_503_page_and_no_sign_in(demo):
    client = at_stay_signed_in(demo)

    def connection_lost(execute, sql, params, many, context):
        # The save of the signed-in session (on PostgreSQL, one statement with its audit event).
        if 'UPDATE "accounts_usersession"' in sql:
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(connection_lost):
        response = stay_signed_in(client)
    assert response.status_code == 503
    assert "temporarily unavailable" in response.content.decode()
    assert signed_in_events() == 0
    assert client.get("/me/").status_code == 302  # the browser is not signed in


def test_a_failed_audit_write_leaves_the_session_unsaved(demo, monkeypatch):
    from accounts.services import audit

    client = at_stay_signed_in(demo)
    record = audit.record

    def audit_fails(kind, **kwargs):
        if kind == AuditEvent.Kind.SIGN_IN:
            raise OperationalError("server closed the connection unexpectedly")
        return record(kind, **kwargs)

    monkeypatch.setattr(audit, "record", audit_fails)
    assert stay_signed_in(client).status_code == 503
    assert not UserSession.objects.filter(user_id=demo["alice@acme.example"].pk).exists()
    monkeypatch.setattr(audit, "record", record)
    assert client.get("/me/").status_code == 302


def test_a_sign_in_that_reaches_the_browser_is_recorded_once(demo):
    client = at_stay_signed_in(demo)
    assert stay_signed_in(client).status_code == 302
    assert client.get("/me/").status_code == 200
    [event] = AuditEvent.objects.filter(kind=AuditEvent.Kind.SIGN_IN)
    assert (event.user.username, event.method, event.account.account_number) == (
        "alice@acme.example", "password", "100001")
