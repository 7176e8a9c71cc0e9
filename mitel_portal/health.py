"""``/healthz`` for load balancers: whether this node can sign people in (docs/design.md 5).

200 while the database answers, 503 when it does not. The cache only ever speeds things up (every
page works without Redis), so a cache that is down is reported in the body, ``"status": "degraded"``,
and never takes the node out of rotation: with a shared Redis down, every node would be.
"""

import logging
import uuid

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        logger.exception("healthz: database check failed")
        return False


def _cache_ok() -> bool:
    key, value = "healthz", uuid.uuid4().hex
    try:
        # django-redis swallows errors (IGNORE_EXCEPTIONS), so read back what was written.
        cache.set(key, value, timeout=10)
        return cache.get(key) == value
    except Exception:
        logger.exception("healthz: cache check failed")
        return False


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    database, cache_ = _database_ok(), _cache_ok()
    status = "unavailable" if not database else "ok" if cache_ else "degraded"
    body = {"status": status, "database": "ok" if database else "down", "cache": "ok" if cache_ else "down"}
    return JsonResponse(body, status=200 if database else 503)
