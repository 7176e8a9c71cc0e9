"""Lockouts: every password or MFA code attempt is counted, before it is checked, in one locked step.

Who counts what (SECURITY.md 5 to 11, 39 to 41):

- A browser holding a valid device cookie for the username (``accounts/devices.py``) counts against
  that device cookie only, with the per-username limit. Its failures lock that browser alone, and
  neither the username's lock nor its address's block stops it: a victim's own browser still signs
  in while an attacker elsewhere keeps the username locked.
- Any other attempt counts against the username (``LOCKOUT_FAILURE_LIMIT``) and against its client
  address (``LOCKOUT_ADDRESS_FAILURE_LIMIT``, far higher: an office shares one address). A blocked
  address is refused for every username whose device cookie it does not hold (password spraying).
- Each lockout of a username or device doubles the next cool-off, up to ``LOCKOUT_COOLOFF_MAX``;
  refused attempts never extend a lockout.
- An attempt is counted as a failure *before* the password is hashed, in one atomic step (a
  compare-and-set of the counters read; when another attempt got in between, again under a row
  lock: PostgreSQL ``SELECT ... FOR UPDATE``, SQLite's ``BEGIN IMMEDIATE``), and given back when
  the password was right (on PostgreSQL in the statement that saves the request's session), so no
  parallel burst checks more passwords than the limit.
- A completed sign-in forgets the failures of what it was counted against: the device cookie's,
  or (without one) the username's. Never an address's: a spraying address cannot wipe its count by
  signing in to an account of its own or by waiting for one of its targets to sign in.

The counts live in the database (``LockoutCounter``), the source of truth shared by every app
process, so the lockout holds with the cache down (SECURITY.md 37).
"""

from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connections, router, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.http import HttpRequest
from django.utils import timezone

from .. import conf, devices
from ..clientip import client_ip
from ..models import AuditEvent, LockoutCounter, User
from ..usernames import canonical_username
from . import audit
from .bounds import ensure_within_reach
from .memberships import audit_accounts

Scope = LockoutCounter.Scope
ADDRESSES_KEPT = 5
NOT_LOADED = object()  # an Attempt's user that nobody loaded yet


@dataclass(frozen=True)
class Lock:
    """One lock that refuses an attempt: whose (username, this browser, this network) and until when."""

    scope: str
    ends_at: datetime | None

    @property
    def lifted_by_password_reset(self) -> bool:
        return self.scope != Scope.ADDRESS


class LockedOut(Exception):  # noqa: N818 - a refusal, not a fault
    def __init__(self, locks: tuple[Lock, ...]) -> None:
        super().__init__(", ".join(lock.scope for lock in locks))
        self.locks = locks


# --- The rules, on one counter ------------------------------------------------------------------


def limit_of(scope: str) -> int:
    return conf.address_failure_limit() if scope == Scope.ADDRESS else conf.failure_limit()


def window_of(scope: str) -> timedelta:
    """How long failures count without a lockout, from the first of them."""
    return conf.address_cool_off() if scope == Scope.ADDRESS else conf.cool_off()


def cool_off_for(scope: str, lockouts: int) -> timedelta:
    """The length of the ``lockouts``-th lockout in a row: doubled each time, capped."""
    if scope == Scope.ADDRESS:
        return conf.address_cool_off()
    doubled = conf.cool_off() * (2 ** min(max(lockouts - 1, 0), 20))
    return min(doubled, conf.cool_off_max())


def _refresh(row: LockoutCounter, now: datetime) -> None:
    """Forget what no longer counts: an ended lockout's failures, failures past their window, and
    (after ``LOCKOUT_FORGET_AFTER`` without a failure) the lockouts that double the cool-off."""
    if row.locked_until is not None and row.locked_until <= now:
        row.failures, row.locked_until, row.window_started_at = 0, None, None
    started = row.window_started_at or row.last_failure_at
    if row.locked_until is None and started is not None and started <= now - window_of(row.scope):
        row.failures, row.window_started_at = 0, None
    if row.last_failure_at is not None and row.last_failure_at <= now - conf.forget_after():
        row.lockouts = 0


def _is_locked(row: LockoutCounter, now: datetime) -> bool:
    return row.locked_until is not None and row.locked_until > now


# --- Counting -----------------------------------------------------------------------------------


def _buckets(request: HttpRequest | None, username: str) -> list[tuple[str, str]]:
    """What an attempt for ``username`` from ``request`` counts against, in lock order."""
    device = devices.device_id(request, username)
    if device:
        return [(Scope.DEVICE, f"{username} {device}")]
    buckets = [(Scope.USERNAME, username)] if username else []
    address = client_ip(request) if request is not None else None
    if address:
        buckets.append((Scope.ADDRESS, address))
    return sorted(buckets)


def _matching(buckets: list[tuple[str, str]]) -> Q:
    condition = Q(pk__in=[])
    for scope, key in buckets:
        condition |= Q(scope=scope, key=key)
    return condition


@dataclass
class Attempt:
    """One counted attempt. Call ``succeeded()`` when it was right (or nothing was checked), and
    ``failed()`` when it was wrong; an attempt left unsettled stays counted as a failure."""

    request: HttpRequest | None
    username: str
    counted: list[tuple[int, datetime | None]] = field(default_factory=list)
    started: tuple[Lock, ...] = ()  # the locks this attempt starts unless it succeeds
    user: "User | None | object" = NOT_LOADED  # the username's user, when the caller loaded it

    def succeeded(self) -> None:
        """Give the attempt back: the password (or code) was right, or was never checked. One
        statement, unless the attempt started a lock (which is taken back with it)."""
        plain = [pk for pk, started_lock in self.counted if started_lock is None]
        locking = [(pk, started_lock) for pk, started_lock in self.counted if started_lock is not None]
        with transaction.atomic() if locking else nullcontext():
            if plain and not _given_back_with_session(self.request, plain):
                _give_back(plain)
            for pk, started_lock in locking:
                LockoutCounter.objects.filter(
                    pk=pk, failures__gt=0, locked_until=started_lock, lockouts__gt=0,
                ).update(failures=F("failures") - 1, lockouts=F("lockouts") - 1, locked_until=None)
        self.counted, self.started = [], ()

    not_checked = succeeded

    def failed(self) -> None:
        """It was wrong (already counted): record the lockouts it started."""
        _record_locks(self.request, self.username, self.started, refused=False, user=self.user)


def begin(request: HttpRequest | None, username: str, *, user: "User | None | object" = NOT_LOADED,
          now: datetime | None = None) -> Attempt:
    """Count an attempt for ``username`` before anything is checked; raise ``LockedOut`` (counting
    nothing, extending nothing) when a lock applies.

    The check and the count are one atomic step. Usually two statements and no transaction: one
    makes the missing counters and reads them all, one writes the count only if no counter changed
    in between (``_write_if_unchanged``: a compare-and-set of every counter at once). When another
    attempt got in between, the attempt is counted again the locking way: one transaction with the
    counters locked, so a burst waits its turn rather than retrying (SECURITY.md 8, 41).

    ``user``: the username's user (None: nobody has it) when the caller loaded it already, so
    that recording a lock loads it no second time."""
    now = now or timezone.now()
    username = canonical_username(username)
    buckets = _buckets(request, username)
    address = client_ip(request) if request is not None else None
    rows = _lock_counters(buckets, username)  # outside a transaction: made and read, not held
    seen = [_version(row) for row in rows]
    attempt = Attempt(request, username, user=user)
    locks = _count(rows, attempt, address, now)
    if not locks and rows and not _write_if_unchanged(rows, seen):
        attempt = Attempt(request, username, user=user)
        with transaction.atomic():
            # Made if missing and locked in one statement (in lock order, so that two new ones
            # cannot deadlock): the check and the count below see every earlier attempt.
            rows = _lock_counters(buckets, username)
            locks = _count(rows, attempt, address, now)
            if not locks:
                LockoutCounter.objects.bulk_update(rows, COUNTED_FIELDS)  # one UPDATE for all
    if locks:
        _record_locks(request, username, locks, refused=True, user=user)
        raise LockedOut(locks)
    return attempt


def _count(rows: list[LockoutCounter], attempt: Attempt, address: str | None,
           now: datetime) -> tuple[Lock, ...]:
    """Apply one attempt to ``rows`` in memory: the locks that refuse it (then nothing is
    counted), or none, with each row counted and ``attempt`` told what it counted and started."""
    for row in rows:
        _refresh(row, now)
    locks = tuple(Lock(row.scope, row.locked_until) for row in rows if _is_locked(row, now))
    if locks:
        return locks
    started = []
    for row in rows:
        if not row.failures:
            row.window_started_at = now
        row.failures += 1
        row.last_failure_at = now
        if address and row.scope != Scope.ADDRESS:
            row.addresses = [address, *[a for a in row.addresses if a != address]][:ADDRESSES_KEPT]
        started_lock = None
        if row.failures >= limit_of(row.scope):
            row.lockouts += 1
            row.locked_until = started_lock = now + cool_off_for(row.scope, row.lockouts)
            started.append(Lock(row.scope, started_lock))
        attempt.counted.append((row.pk, started_lock))
    attempt.started = tuple(started)
    return ()


# What every write to a counter changes (a count always moves failures or last_failure_at, a give-back
# failures, a lock's give-back lockouts and locked_until; a lift deletes the row): a counter whose
# values here are those read has not been written since.
VERSION_FIELDS = ["failures", "window_started_at", "last_failure_at", "locked_until", "lockouts"]


def _give_back(ids: list[int]) -> None:
    """One failure fewer on each counter of ``ids`` that has one: the statement
    ``filter(pk__in=ids, failures__gt=0).update(failures=F("failures") - 1)`` makes, written here
    (building it through the ORM cost a correct password more CPU than running it)."""
    connection = connections[router.db_for_write(LockoutCounter)]
    opts = LockoutCounter._meta
    quote = connection.ops.quote_name
    failures = quote(opts.get_field("failures").column)
    placeholders = ", ".join(["%s"] * len(ids))
    # Names from the model, every value a parameter.
    sql = (f"UPDATE {quote(opts.db_table)} SET {failures} = {failures} - 1 "  # noqa: S608
           f"WHERE {failures} > 0 AND {quote(opts.pk.column)} IN ({placeholders})")
    with connection.cursor() as cursor:
        cursor.execute(sql, ids)


def _given_back_with_session(request: HttpRequest | None, ids: list[int]) -> bool:
    """Give back on ``ids`` in the statement that saves the request's session, where that costs
    nothing (``SessionStore.save_with_decrement``): a correct password's request saves its session
    (the sign-in moves on), one statement fewer. If the session is not saved after all (a server
    error), the attempt stays counted, as an attempt left unsettled does."""
    session = getattr(request, "session", None)
    return hasattr(session, "save_with_decrement") and session.save_with_decrement(
        LockoutCounter, "failures", ids)


def _version(row: LockoutCounter) -> tuple:
    return tuple(getattr(row, name) for name in VERSION_FIELDS)


def _write_if_unchanged(rows: list[LockoutCounter], seen: list[tuple]) -> bool:
    """Write the counted ``rows`` in one UPDATE, only if every one of them still holds what was
    read (``seen``): all of them or none. True when written.

    On PostgreSQL the statement first locks the rows (``FOR UPDATE`` in a sub-select, which reads
    their latest committed values) and compares them; SQLite runs a statement under its write lock."""
    connection = connections[router.db_for_write(LockoutCounter)]
    opts = LockoutCounter._meta
    quote = connection.ops.quote_name
    table, pk_column = quote(opts.db_table), quote(opts.pk.column)
    # The SET part as bulk_update writes it (a CASE on the id, cast where the database needs it),
    # written here: building it through the ORM's expressions cost more CPU than the statement.
    cast = connection.features.requires_casted_case_in_updates
    sets, update_params = [], []
    for name in COUNTED_FIELDS:
        model_field = opts.get_field(name)
        case = "CASE " + " ".join(f"WHEN {pk_column} = %s THEN %s" for _row in rows) + " END"
        sets.append(f"{quote(model_field.column)} = "
                    + (f"CAST({case} AS {model_field.db_type(connection)})" if cast else case))
        for row in rows:
            update_params += [row.pk, model_field.get_db_prep_save(getattr(row, model_field.attname),
                                                                   connection)]
    ids = ", ".join(["%s"] * len(rows))
    update_sql = f"UPDATE {table} SET {', '.join(sets)} WHERE {pk_column} IN ({ids})"  # noqa: S608
    update_params += [row.pk for row in rows]
    same = "IS NOT DISTINCT FROM" if connection.vendor == "postgresql" else "IS"
    conditions, check_params = [], []
    for row, values in zip(rows, seen, strict=True):
        parts = [f"{pk_column} = %s"]
        check_params.append(row.pk)
        for name, value in zip(VERSION_FIELDS, values, strict=True):
            model_field = opts.get_field(name)
            parts.append(f"{quote(model_field.column)} {same} %s")
            check_params.append(model_field.get_db_prep_value(value, connection))
        conditions.append(f"({' AND '.join(parts)})")
    source = table
    if connection.vendor == "postgresql":
        # Locked in the order every count locks them (scope, key), so that no two can deadlock.
        source = (f"(SELECT * FROM {table} WHERE {pk_column} IN ({ids}) "  # noqa: S608
                  f"ORDER BY scope, {quote('key')} FOR UPDATE) AS current_counters")
        check_params = [row.pk for row in rows] + check_params
    # Names from the model, every value a parameter.
    sql = (f"{update_sql} AND (SELECT COUNT(*) FROM {source} "  # noqa: S608
           f"WHERE {' OR '.join(conditions)}) = %s")
    with connection.cursor() as cursor:
        cursor.execute(sql, [*update_params, *check_params, len(rows)])
        written = cursor.rowcount
    if written not in (0, len(rows)):  # cannot happen: the statement writes all or none
        raise RuntimeError("A lockout count was written to some of its counters only.")
    return written == len(rows)


COUNTED_FIELDS = ["failures", "window_started_at", "last_failure_at", "locked_until", "lockouts",
                  "addresses"]
_COLUMNS = ["id", "scope", "key", "username", *COUNTED_FIELDS]


def _lock_counters(buckets: list[tuple[str, str]], username: str) -> list[LockoutCounter]:
    """The counters of ``buckets``, made when missing, locked until the transaction ends: one
    ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` (PostgreSQL and SQLite), whose update of
    an existing row takes its row lock as ``SELECT ... FOR UPDATE`` would."""
    if not buckets:
        return []
    opts = LockoutCounter._meta
    connection = connections[router.db_for_write(LockoutCounter)]
    quote = connection.ops.quote_name
    values = ", ".join(["(%s, %s, %s, 0, 0, %s)"] * len(buckets))
    params = []
    for scope, key in buckets:
        params += [scope, key, "" if scope == Scope.ADDRESS else username, "[]"]
    # Table and column names from the model, every value a parameter.
    sql = (f"INSERT INTO {quote(opts.db_table)} (scope, {quote('key')}, username, "  # noqa: S608
           f"failures, lockouts, addresses) VALUES {values} ON CONFLICT (scope, {quote('key')}) "
           f"DO UPDATE SET username = EXCLUDED.username "
           f"RETURNING {', '.join(quote(c) for c in _COLUMNS)}")
    fields = [opts.get_field("id" if name == "id" else name) for name in _COLUMNS]
    columns = [f.get_col(opts.db_table) for f in fields]
    converters = [connection.ops.get_db_converters(col) + col.get_db_converters(connection)
                  for col in columns]
    rows = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for record in cursor.fetchall():
            converted = []
            for value, column, column_converters in zip(record, columns, converters, strict=True):
                for convert in column_converters:
                    value = convert(value, column, connection)
                converted.append(value)
            rows.append(LockoutCounter.from_db(connection.alias, [f.attname for f in fields], converted))
    return sorted(rows, key=lambda row: (row.scope, row.key))


def locks_for(request: HttpRequest | None, username: str, *, now: datetime | None = None) -> tuple[Lock, ...]:
    """The locks that would refuse an attempt for ``username`` from ``request`` now (counts nothing)."""
    now = now or timezone.now()
    username = canonical_username(username)
    rows = list(LockoutCounter.objects.filter(_matching(_buckets(request, username))))
    for row in rows:
        _refresh(row, now)
    return tuple(Lock(row.scope, row.locked_until) for row in rows if _is_locked(row, now))


def is_locked(request: HttpRequest | None, username: str) -> bool:
    """Whether ``username`` is locked for this browser: its username lock (without a device cookie)
    or its device cookie's. An address block is not one: it stops password guessing, and an SSO
    sign-in guesses nothing."""
    return any(lock.scope != Scope.ADDRESS for lock in locks_for(request, username))


def signed_in(request: HttpRequest | None, user: User) -> None:
    """A completed sign-in: forget the failures of this browser's device cookie for the user, or
    without one the username's; never the address's. Then give the browser a new device cookie."""
    username = user.username
    device = devices.device_id(request, username)
    counter = ({"scope": Scope.DEVICE, "key": f"{username} {device}"} if device
               else {"scope": Scope.USERNAME, "key": username})
    session = getattr(request, "session", None)
    if hasattr(session, "save_with_delete"):
        # Forgotten only if the signed-in session is saved: with it, in one statement on PostgreSQL.
        session.save_with_delete(LockoutCounter, **counter)
    else:
        rows = LockoutCounter.objects.filter(**counter)
        rows._raw_delete(rows.db)  # one DELETE: nothing refers to a counter, no signal listens
    if request is not None:
        devices.remember(request, username)


def _flow_context(request: HttpRequest | None) -> dict:
    context = dict(getattr(request, "signin_context", None) or {})
    context.pop("username", None)
    return {key: value for key, value in context.items() if value is not None}


def _record_locks(request: HttpRequest | None, username: str, locks: tuple[Lock, ...], *,
                  refused: bool, user: "User | None | object" = NOT_LOADED) -> None:
    if not locks:
        return
    if user is NOT_LOADED:
        user = User.objects.filter(username=username).first() if username else None
    for lock in locks:
        # An address's block is nobody's in particular: what was typed is kept, the user is not,
        # so the event stays out of that user's account's trail (it names someone else's network).
        audit.record(AuditEvent.Kind.LOCKED_OUT, request=request, username=username,
                     user=None if lock.scope == Scope.ADDRESS else user,
                     **{"method": "password", **_flow_context(request)},
                     lock=str(lock.scope), refused=refused)


# --- What support sees, and lifting ---------------------------------------------------------------


@dataclass(frozen=True)
class Lockout:
    """The failures counted against one username now, as its page in the Connect Portal shows them."""

    failures: int
    limit: int
    last_failure_at: datetime | None
    ends_at: datetime | None
    ip_addresses: tuple[str, ...]
    locked: bool
    locked_devices: int = 0


def _user_rows(username: str) -> QuerySet[LockoutCounter]:
    return LockoutCounter.objects.filter(username=username, scope__in=[Scope.USERNAME, Scope.DEVICE])


def lockout_of(user: User, *, now: datetime | None = None) -> Lockout | None:
    """The failures counting against ``user``'s username (and its device cookies), or None."""
    now = now or timezone.now()
    rows = list(_user_rows(user.username))
    for row in rows:
        _refresh(row, now)
    own = next((row for row in rows if row.scope == Scope.USERNAME), None)
    devices_locked = sum(1 for row in rows if row.scope == Scope.DEVICE and _is_locked(row, now))
    if not ((own is not None and own.failures) or devices_locked):
        return None
    failures = own.failures if own is not None else 0
    locked = own is not None and _is_locked(own, now)
    ends_at = None
    if own is not None and own.last_failure_at is not None:
        started = own.window_started_at or own.last_failure_at
        ends_at = own.locked_until if locked else started + window_of(Scope.USERNAME)
    return Lockout(
        failures=failures, limit=conf.failure_limit(),
        last_failure_at=own.last_failure_at if own is not None else None, ends_at=ends_at,
        ip_addresses=tuple(own.addresses) if own is not None else (), locked=locked,
        locked_devices=devices_locked,
    )


def with_failure_counts(users: QuerySet[User], *, now: datetime | None = None) -> QuerySet[User]:
    """Annotate ``lockout_ends_at``: when each username's lockout ends (None when not locked)."""
    now = now or timezone.now()
    locked = LockoutCounter.objects.filter(scope=Scope.USERNAME, key=OuterRef("username"),
                                           locked_until__gt=now)
    return users.annotate(lockout_ends_at=Subquery(locked.values("locked_until")[:1]))


def is_locked_annotated(user: User, *, now: datetime | None = None) -> bool:
    ends_at = getattr(user, "lockout_ends_at", None)
    return ends_at is not None and ends_at > (now or timezone.now())


def locked_out(users: QuerySet[User], *, now: datetime | None = None) -> QuerySet[User]:
    """The users whose username, or one of whose device cookies, is locked now."""
    now = now or timezone.now()
    locked = LockoutCounter.objects.filter(username=OuterRef("username"), locked_until__gt=now,
                                           scope__in=[Scope.USERNAME, Scope.DEVICE])
    return users.filter(Exists(locked))


def lift_username(username: str) -> int:
    """Forget every failure counted against ``username`` and its device cookies; how many counters
    held some. The addresses that failed stay counted."""
    rows = _user_rows(canonical_username(username))
    holding = rows.filter(Q(failures__gt=0) | Q(locked_until__isnull=False)).count()
    rows.delete()
    return holding


def unlock_user(user: User, *, acting_user: User, request: HttpRequest | None = None) -> int:
    """Lift ``user``'s username lock (and their device cookies' locks), so they can sign in at once.

    Only the username's count is cleared: the client addresses that failed stay counted, so an
    attacker's address stays blocked. Returns how many counters were cleared; nothing is audited
    when there was nothing to unlock. Raises PermissionDenied when ``user`` is beyond
    ``acting_user``'s reach: nobody but a superuser lifts their own lockout (``bounds``).
    """
    ensure_within_reach(user, acting_user)
    with transaction.atomic():
        lockout = lockout_of(user)
        removed = lift_username(user.username)
        if removed:
            for account in audit_accounts(user, acting_user):
                audit.record(
                    AuditEvent.Kind.UNLOCKED, request=request, user=user, actor=acting_user,
                    account=account, failures=lockout.failures if lockout else 0,
                )
    return removed


def address_blocks(*, now: datetime | None = None) -> QuerySet[LockoutCounter]:
    """Client addresses blocked now for usernames whose device cookie they do not hold."""
    return LockoutCounter.objects.filter(scope=Scope.ADDRESS, locked_until__gt=now or timezone.now())


def lift_address_block(block: LockoutCounter, *, acting_user: User,
                       request: HttpRequest | None = None) -> bool:
    """Lift an address's block and forget its failures; audited. False when it had ended already."""
    with transaction.atomic():
        removed, _ = LockoutCounter.objects.filter(pk=block.pk, scope=Scope.ADDRESS,
                                                   locked_until__gt=timezone.now()).delete()
        if removed:
            audit.record(AuditEvent.Kind.UNLOCKED, request=request, actor=acting_user,
                         address=block.key, failures=block.failures)
    return bool(removed)


def lock_username(username: str, *, address: str = "203.0.113.66",
                  now: datetime | None = None) -> LockoutCounter:
    """Lock ``username`` as ``LOCKOUT_FAILURE_LIMIT`` failures would have (the demo's mallory)."""
    now = now or timezone.now()
    row, _ = LockoutCounter.objects.update_or_create(
        scope=Scope.USERNAME, key=canonical_username(username),
        defaults={"username": canonical_username(username), "failures": conf.failure_limit(),
                  "window_started_at": now, "last_failure_at": now,
                  "locked_until": now + conf.cool_off(), "lockouts": 1,
                  "addresses": [address]},
    )
    return row


def forget_stale(*, now: datetime | None = None) -> int:
    """Delete the counters that no longer count (no lockout now, no failure for
    ``LOCKOUT_FORGET_AFTER``, nor for an address's cool-off); how many."""
    now = now or timezone.now()
    stale = Q(locked_until__isnull=True) | Q(locked_until__lte=now)
    old = Q(last_failure_at__isnull=True) | Q(
        last_failure_at__lte=now - max(conf.forget_after(), conf.address_cool_off()))
    deleted, _ = LockoutCounter.objects.filter(stale & old).delete()
    return deleted
