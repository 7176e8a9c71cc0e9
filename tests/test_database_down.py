"""Database down: a clear 503 page, nothing half-written, /healthz says so (SECURITY.md 38)."""

import pytest
from django.db import OperationalError
from django.db.backends.utils import CursorWrapper
from django.test import Client

from accounts.models import AuditEvent, User
from tests.signin import enter_username

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
