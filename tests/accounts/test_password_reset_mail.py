"""Forgot-password mail: out of the request, limited, links from PUBLIC_URL (SECURITY.md 42, 47)."""

import re

import pytest
from django.core.management import call_command
from django.test import Client

from accounts.models import AuditEvent, User
from tests.factories import MembershipFactory

from .password_helpers import DEMO_PASSWORD

pytestmark = pytest.mark.django_db

ALICE = "alice@acme.example"
SENT = "/password/forgot/sent/"


def member(username: str) -> User:
    return MembershipFactory(user__username=username, user__password=DEMO_PASSWORD).user


def ask_for_reset(login: str, *, address: str = "192.0.2.10", **headers):
    return Client(REMOTE_ADDR=address, **headers).post("/password/forgot/", {"login": login})


def refusals() -> list[tuple[str, str]]:
    return [(event.username, event.detail["refused"]) for event in AuditEvent.objects.filter(
        kind=AuditEvent.Kind.PASSWORD_RESET_REQUESTED, detail__has_key="refused").order_by("id")]


def test_the_reset_link_starts_with_the_public_url_whatever_the_host_header(settings, mailoutbox):
    settings.PUBLIC_URL = "https://signin.mitel.example"
    member(ALICE)
    response = ask_for_reset(ALICE, HTTP_HOST="127.0.0.1:6666")
    assert response["Location"] == SENT
    [mail] = mailoutbox
    for body in (mail.body, mail.alternatives[0].content):
        assert re.search(r"https://signin\.mitel\.example/password/reset/[^/\s]+/[^/\s]+/", body)
        assert "6666" not in body and "127.0.0.1" not in body


def test_the_password_changed_mail_links_to_the_public_url(settings, rf, mailoutbox,
                                                          django_capture_on_commit_callbacks):
    from accounts.services.passwords import change_password

    settings.PUBLIC_URL = "https://signin.mitel.example"
    alice = member(ALICE)
    with django_capture_on_commit_callbacks(execute=True):
        change_password(alice, "a brand new passphrase for alice", request=rf.get("/", HTTP_HOST="evil:6666"))
    [mail] = mailoutbox
    assert "https://signin.mitel.example/password/forgot/" in mail.body
    assert "evil" not in mail.body and "evil" not in mail.alternatives[0].content


def test_reset_mails_to_one_user_stop_at_the_limit_with_the_same_answer(settings, mailoutbox):
    settings.PASSWORD_RESET_MAILS_PER_USER = 3
    member(ALICE)
    answers = {ask_for_reset(ALICE, address=f"192.0.2.{n}")["Location"] for n in range(1, 6)}
    assert answers == {SENT}
    assert len(mailoutbox) == 3
    assert refusals() == [(ALICE, "too_many_for_user")] * 2
    member("bob@acme.example")
    ask_for_reset("bob@acme.example", address="192.0.2.1")
    assert mailoutbox[-1].to == ["bob@acme.example"]


def test_the_limit_counts_requests_not_the_events_of_each_account(settings, mailoutbox):
    """A user in two accounts gets an event in each for one request: still one request."""
    settings.PASSWORD_RESET_MAILS_PER_USER = 2
    bob = member("bob@multi.example")
    MembershipFactory(user=bob)
    for n in range(3):
        ask_for_reset(bob.username, address=f"192.0.2.{n}")
    assert len(mailoutbox) == 2
    assert refusals() == [(bob.username, "too_many_for_user")] * 2  # one per account


def test_requests_from_one_address_stop_at_the_limit_with_the_same_answer(settings, mailoutbox):
    settings.PASSWORD_RESET_REQUESTS_PER_ADDRESS = 2
    for name in ("alice", "bob", "carol"):
        member(f"{name}@acme.example")
    assert ask_for_reset("nobody@acme.example")["Location"] == SENT  # unknown names count too
    assert ask_for_reset("alice@acme.example")["Location"] == SENT
    assert ask_for_reset("bob@acme.example")["Location"] == SENT
    assert [m.to for m in mailoutbox] == [["alice@acme.example"]]
    assert refusals() == [("bob@acme.example", "too_many_from_address")]
    ask_for_reset("carol@acme.example", address="198.51.100.4")
    assert mailoutbox[-1].to == ["carol@acme.example"]


def test_support_sends_are_not_held_back_by_the_limit(settings, rf, mailoutbox):
    from accounts.services.passwords import send_password_reset

    settings.PASSWORD_RESET_MAILS_PER_USER = 1
    alice = member(ALICE)
    ask_for_reset(ALICE)
    ask_for_reset(ALICE)
    assert send_password_reset(alice, request=rf.get("/")) == 1
    assert len(mailoutbox) == 2


@pytest.mark.django_db(transaction=True)  # the worker commits, and closes connections between tasks
def test_the_page_only_queues_the_mail_and_the_worker_sends_it(settings, mailoutbox):
    """With the database backend of production: the request stores a task, ``db_worker`` mails it."""
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    member(ALICE)
    for login in (ALICE, "nobody@acme.example"):
        assert ask_for_reset(login, HTTP_USER_AGENT="Firefox")["Location"] == SENT
    assert mailoutbox == []
    assert not AuditEvent.objects.exists()
    assert DBTaskResult.objects.count() == 2

    call_command("db_worker", batch=True, reload=False, startup_delay=False, interval=0, verbosity=0)

    assert [m.to for m in mailoutbox] == [[ALICE]]
    assert sorted(DBTaskResult.objects.values_list("status", flat=True)) == ["SUCCESSFUL"] * 2
    events = AuditEvent.objects.filter(kind=AuditEvent.Kind.PASSWORD_RESET_REQUESTED).order_by("id")
    assert [(e.username, e.detail["matched"], e.ip_address, e.user_agent) for e in events] == [
        (ALICE, True, "192.0.2.10", "Firefox"), ("nobody@acme.example", False, "192.0.2.10", "Firefox")]


def test_known_and_unknown_names_cost_the_request_the_same_queries(settings, django_assert_num_queries):
    """The request stores one task whoever is named: the same queries, so the same time."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    member(ALICE)
    Client().get("/password/forgot/")  # the session and anything loaded once
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    seen = []
    for login in (ALICE, "nobody@acme.example"):
        with CaptureQueriesContext(connection) as queries:
            ask_for_reset(login)
        seen.append([re.sub(r"'[^']*'|\b\d+\b", "?", q["sql"]) for q in queries.captured_queries])
    assert seen[0] == seen[1]
    from django_tasks_db.models import DBTaskResult

    assert any(f'INSERT INTO "{DBTaskResult._meta.db_table}"' in sql for sql in seen[0])
