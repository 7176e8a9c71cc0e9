"""Lockouts (django-axes, database handler): what a support engineer sees, and unlocking."""

from dataclasses import dataclass
from datetime import datetime

from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings
from django.db import transaction
from django.db.models import Max, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils import timezone

from ..models import AuditEvent, User
from . import audit
from .bounds import ensure_within_reach
from .memberships import audit_accounts


@dataclass(frozen=True)
class Lockout:
    """The failures counted against one username within the cool-off."""

    failures: int
    limit: int
    last_failure_at: datetime
    ends_at: datetime | None
    ip_addresses: tuple[str, ...]

    @property
    def locked(self) -> bool:
        return self.failures >= self.limit


def _cool_off_ends(last_failure_at: datetime | None) -> datetime | None:
    """When a failure at ``last_failure_at`` stops counting; None when failures count for ever."""
    cool_off = settings.AXES_COOLOFF_TIME
    if not (cool_off and last_failure_at):
        return None
    return last_failure_at + cool_off


def lockout_ends_at(username: str, ip_address: str | None = None) -> datetime | None:
    """When the latest failure counted against ``username`` or ``ip_address`` stops counting."""
    condition = Q(username=username)
    if ip_address:
        condition |= Q(ip_address=ip_address)
    latest = AccessAttempt.objects.filter(condition).aggregate(latest=Max("attempt_time"))["latest"]
    return _cool_off_ends(latest)


def _counting(now: datetime | None) -> QuerySet[AccessAttempt]:
    """Attempts that still count: axes forgets them after AXES_COOLOFF_TIME."""
    now = now or timezone.now()
    return AccessAttempt.objects.filter(attempt_time__gte=now - settings.AXES_COOLOFF_TIME)


def lockout_of(user: User, *, now: datetime | None = None) -> Lockout | None:
    """The failures that count against ``user``'s username, or None when there are none."""
    attempts = _counting(now).filter(username=user.username)
    totals = attempts.aggregate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
    if not totals["failures"]:
        return None
    addresses = attempts.exclude(ip_address=None).values_list("ip_address", flat=True).distinct()
    return Lockout(
        failures=totals["failures"],
        limit=settings.AXES_FAILURE_LIMIT,
        last_failure_at=totals["last"],
        ends_at=_cool_off_ends(totals["last"]),
        ip_addresses=tuple(sorted(addresses)),
    )


def with_failure_counts(users: QuerySet[User], *, now: datetime | None = None) -> QuerySet[User]:
    """Annotate ``lockout_failures``: the failures counting against each username now."""
    per_user = (
        _counting(now).filter(username=OuterRef("username")).order_by()
        .values("username").annotate(total=Sum("failures_since_start")).values("total")
    )
    return users.annotate(lockout_failures=Coalesce(Subquery(per_user), 0))


def locked_out(users: QuerySet[User], *, now: datetime | None = None) -> QuerySet[User]:
    return with_failure_counts(users, now=now).filter(
        lockout_failures__gte=settings.AXES_FAILURE_LIMIT
    )


def unlock_user(user: User, *, acting_user: User, request: HttpRequest | None = None) -> int:
    """Forget the failures counted against ``user``'s username, so they can sign in at once.

    Only the username's count is cleared: the client addresses that failed stay counted, so an
    attacker's address stays locked. Returns how many attempt records were removed; nothing is
    audited when there was nothing to unlock. Raises PermissionDenied when ``user`` is beyond
    ``acting_user``'s reach: nobody but a superuser lifts their own lockout (``bounds``).
    """
    ensure_within_reach(user, acting_user)
    with transaction.atomic():
        lockout = lockout_of(user)
        removed = reset(username=user.username)
        if removed:
            for account in audit_accounts(user, acting_user):
                audit.record(
                    AuditEvent.Kind.UNLOCKED, request=request, user=user, actor=acting_user,
                    account=account, failures=lockout.failures if lockout else 0,
                )
    return removed
