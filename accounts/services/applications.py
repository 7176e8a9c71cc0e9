"""The application a sign-in link names (``?app=<slug>``), read through the cache.

Every request of the sign-in flow needs its application (its name, where it may send people
afterwards, when it asks for the account), and applications change rarely, so the row is kept in
the cache (Redis when configured) by slug. Every save or delete of an application drops its copy at
once (``accounts.receivers``); a copy the cache failed to drop (Redis unreachable at that moment)
lives at most ``TIMEOUT`` seconds. Unknown slugs are never cached: a link with made-up slugs fills
nothing.

Each process also keeps what it read for ``LOCAL_TIMEOUT`` seconds, in memory: reading Redis cost a
sign-in page more CPU than everything else in its view (README, Benchmarks). A save drops the copy of
the process that saved at once; the other processes see the change within those seconds.
"""

import threading
import time

from django.core.cache import cache
from django.db import connection

from ..models import Application

TIMEOUT = 60  # seconds
LOCAL_TIMEOUT = 5  # seconds
LOCAL_SIZE = 256  # slugs kept in memory by each process, at most

_local: dict[str, tuple[float, Application]] = {}
_local_lock = threading.Lock()


def _key(slug: str) -> str:
    # The database's name too: two databases (the bench's two data sets) may share one Redis.
    return f"accounts.application:{connection.settings_dict['NAME']}:{slug}"


def by_slug(slug: str) -> Application | None:
    """The application with ``slug``, or None: from the cache, else one query."""
    if not slug:
        return None
    key = _key(slug)
    held = _local.get(key)
    if held is not None and held[0] > time.monotonic():
        return held[1]
    application = cache.get(key)
    if not isinstance(application, Application):
        application = Application.objects.filter(slug=slug).first()
        if application is None:
            return None
        cache.set(key, application, TIMEOUT)
    with _local_lock:
        if len(_local) >= LOCAL_SIZE:
            _local.clear()
        _local[key] = (time.monotonic() + LOCAL_TIMEOUT, application)
    return application


def forget(*slugs: str) -> None:
    """Drop the cached copies of these slugs' applications (after a change)."""
    keys = [_key(slug) for slug in slugs if slug]
    with _local_lock:
        for key in keys:
            _local.pop(key, None)
    cache.delete_many(keys)


def forget_everything_local() -> None:
    """Drop this process's copies (tests, whose rows roll back without a delete signal)."""
    with _local_lock:
        _local.clear()
