"""Fixtures shared by the whole suite."""

import pytest

from tests.hashers import FastArgon2PasswordHasher


@pytest.fixture
def hash_calls():
    """Counts password-hash computations (encode or verify) made inside the ``with`` block."""

    class Counter:
        def __enter__(self):
            self.start = FastArgon2PasswordHasher.calls
            return self

        def __exit__(self, *exc):
            self.count = FastArgon2PasswordHasher.calls - self.start

    return Counter


@pytest.fixture
def demo(db):
    """The demo data of DESIGN.md section 6."""
    from django.core.management import call_command

    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    from accounts.models import User

    return {user.username: user for user in User.objects.all()}
