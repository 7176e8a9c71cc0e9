"""Two workers mailing one user at once send no more than the per-user limit: the count of the
hour's mails and the mail's record are one step per user, behind a row lock (SECURITY.md 2; the
lock is PostgreSQL's, SQLite runs one writer at a time anyway)."""

import threading
import time

import pytest
from django.db import connection

from accounts.services import passwords
from tests.factories import UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_worker_waits_for_the_one_counting_the_same_user(settings, monkeypatch, mailoutbox):
    settings.PASSWORD_RESET_MAILS_PER_USER = 2
    user = UserFactory(username="rae@acme.example", email="rae@acme.example")
    assert passwords.send_requested_password_reset(user.username, ip_address=None) == 1
    # The first worker, once it holds the lock and has counted one mail of two, pauses before it
    # records its own; the second starts then, and must wait for it, count two, and send nothing.
    real, counting = passwords.identity_provider_accounts, threading.Event()

    def first_pauses(someone):
        if not counting.is_set():
            counting.set()
            time.sleep(1)
        return real(someone)

    monkeypatch.setattr(passwords, "identity_provider_accounts", first_pauses)
    sent, errors = [], []

    def worker(second: bool) -> None:
        try:
            if second:
                assert counting.wait(10)
            sent.append(passwords.send_requested_password_reset(user.username, ip_address=None))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(second,)) for second in (False, True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(sent) == [0, 1]
    assert len(mailoutbox) == 2
