"""The application a sign-in link names (``?app=<slug>``), read through the cache.

Every request of the sign-in flow needs its application (its name, where it may send people
afterwards, when it asks for the account), and applications change rarely, so the row is kept in
the cache (Redis when configured) by slug. Every save or delete of an application drops its copy at
once (``accounts.receivers``); a copy the cache failed to drop (Redis unreachable at that moment)
lives at most ``TIMEOUT`` seconds. Unknown slugs are never cached: a link with made-up slugs fills
nothing.
"""

from django.core.cache import cache
from django.db import connection

from ..models import Application

TIMEOUT = 60  # seconds


def _key(slug: str) -> str:
    # The database's name too: two databases (the bench's two data sets) may share one Redis.
    return f"accounts.application:{connection.settings_dict['NAME']}:{slug}"


def by_slug(slug: str) -> Application | None:
    """The application with ``slug``, or None: from the cache, else one query."""
    if not slug:
        return None
    key = _key(slug)
    application = cache.get(key)
    if isinstance(application, Application):
        return application
    application = Application.objects.filter(slug=slug).first()
    if application is not None:
        cache.set(key, application, TIMEOUT)
    return application


def forget(*slugs: str) -> None:
    """Drop the cached copies of these slugs' applications (after a change)."""
    cache.delete_many([_key(slug) for slug in slugs if slug])
