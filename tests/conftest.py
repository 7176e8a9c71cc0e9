"""Fixtures shared by the whole suite."""

import os

import pytest
from django.conf import settings

from tests.hashers import FastArgon2PasswordHasher

IN_CI = bool(os.environ.get("CI"))


def pytest_sessionstart(session):
    """Compile the language catalogues that are older than their .po (as `make test` does), so a
    plain `pytest` run serves the same translations; tests/test_translations.py says when msgfmt is
    missing."""
    import shutil
    import subprocess
    from pathlib import Path

    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        return
    for po in (Path(__file__).resolve().parents[1] / "locale").glob("*/LC_MESSAGES/*.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            subprocess.run([msgfmt, "--check", "-o", str(mo), str(po)], check=True)


def on_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


def pytest_collection_modifyitems(config, items):
    """Tests marked ``postgres`` need the suite's database to be PostgreSQL.

    CI runs the suite twice, on SQLite and on PostgreSQL: there they are deselected from the SQLite
    run and run in the PostgreSQL one (never skipped). Locally they skip, saying how to run them.
    """
    if on_postgres():
        return
    wanted, deselected = [], []
    for item in items:
        (deselected if item.get_closest_marker("postgres") else wanted).append(item)
    if not deselected:
        return
    if IN_CI:
        config.hook.pytest_deselected(items=deselected)
        items[:] = wanted
    else:
        for item in deselected:
            item.add_marker(pytest.mark.skip(
                reason="needs PostgreSQL: DATABASE_URL=postgres://postgres@127.0.0.1:5432/mitel"))


def require_service(name: str, available: bool) -> None:
    """Skip when a local service is absent, except in CI, where its absence is a failure."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{name} must be running in CI")
    pytest.skip(f"{name} is not running")


@pytest.fixture
def redis_url() -> str:
    """A Redis URL that answers (REDIS_URL, else the local server's DB 15)."""
    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"
    try:
        import redis

        available = bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except Exception:
        available = False
    require_service("Redis", available)
    return url


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
    """The demo data of docs/design.md section 6."""
    from django.core.management import call_command

    from accounts.models import User

    with open(os.devnull, "w") as devnull:
        call_command("seed_demo", stdout=devnull)
    return {user.username: user for user in User.objects.all()}


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache: what an earlier test cached (an application by its
    slug, accounts.services.applications) belonged to rows rolled back with that test."""
    from django.core.cache import cache

    from accounts.services import applications
    from signin import first_page

    cache.clear()
    applications.forget_everything_local()
    first_page.forget()


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language. LocaleMiddleware activates a request's language
    in the thread and leaves it there, as a server does until its next request; a test that sent
    a page in German would otherwise leave German to the mails and messages of the next."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)
