"""SECURITY.md 23 under concurrency: one code sent many times at once still works once (PostgreSQL)."""

import threading

import pytest
from django.db import connection
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.services import totp
from tests.accounts.mfa_helpers import code_for
from tests.factories import UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_at_once(times: int, attempt) -> list:
    barrier = threading.Barrier(times)
    results: list = []

    def worker() -> None:
        try:
            barrier.wait()
            results.append(attempt())
        except Exception as error:  # the outcome is what the test counts
            results.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_one_totp_code_sent_ten_times_at_once_signs_in_once():
    user = UserFactory()
    device = TOTPDevice.objects.create(user=user, name="Authenticator app")
    code = code_for(device)
    results = run_at_once(10, lambda: totp.verify_code(user, code))
    accepted = [result for result in results if isinstance(result, TOTPDevice)]
    assert len(accepted) == 1
    assert all(isinstance(result, totp.MfaError) for result in results if result not in accepted)


def test_one_backup_code_sent_ten_times_at_once_signs_in_once():
    user = UserFactory()
    TOTPDevice.objects.create(user=user, name="Authenticator app")
    code = totp.issue_backup_codes(user)[0]
    results = run_at_once(10, lambda: totp.verify_code(user, code))
    assert sum(not isinstance(result, Exception) for result in results) == 1
    assert totp.backup_codes_left(user) == 9
