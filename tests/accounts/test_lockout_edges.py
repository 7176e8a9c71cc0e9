"""accounts/services/lockouts.py at its edges: a right password that was the limit's attempt, whose
counters a lock is read from, what support sees and lifts."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core import signing
from django.test import RequestFactory
from django.utils import timezone

from accounts import conf, devices
from accounts.models import AuditEvent, LockoutCounter, User
from accounts.services.lockouts import (
    Lock,
    address_blocks,
    begin,
    is_locked,
    is_locked_annotated,
    lift_address_block,
    lock_username,
    lockout_of,
    locks_for,
    unlock_user,
    with_failure_counts,
)
from tests.factories import LockoutFactory, UserFactory

pytestmark = pytest.mark.django_db

LIMIT = settings.LOCKOUT_FAILURE_LIMIT
COOLOFF = settings.LOCKOUT_COOLOFF


def from_address(ip_address: str = "198.51.100.1", *, device_cookie_for: str | None = None):
    request = RequestFactory().post("/signin/authenticate/", REMOTE_ADDR=ip_address)
    if device_cookie_for:
        request.COOKIES[conf.get("LOCKOUT_DEVICE_COOKIE_NAME")] = signing.dumps(
            [[device_cookie_for, "this-browser"]], salt=devices.SALT, compress=True)
    return request


def wrong(username: str, count: int, *, at, ip_address: str = "198.51.100.1") -> None:
    for _ in range(count):
        begin(from_address(ip_address), username, now=at).failed()


def staff() -> User:
    return UserFactory(is_staff=True)


# --- A right password given back -------------------------------------------------------------------

def test_a_right_password_as_the_limits_attempt_takes_back_the_lock_it_started():
    now = timezone.now()
    alice, bob = UserFactory(), UserFactory()
    wrong(alice.username, LIMIT - 1, at=now - timedelta(minutes=1))
    wrong(bob.username, LIMIT, at=now)  # bob's lock starts at the same instant
    attempt = begin(from_address(), alice.username, now=now)
    attempt.succeeded()  # the password was right

    assert locks_for(from_address(), alice.username, now=now) == ()
    lockout = lockout_of(alice, now=now)
    assert (lockout.failures, lockout.locked) == (LIMIT - 1, False)
    assert lockout_of(bob, now=now).locked
    # The next wrong password locks, for a first lockout's cool-off, not a second's.
    wrong(alice.username, 1, at=now)
    assert lockout_of(alice, now=now).ends_at == now + COOLOFF


def test_with_a_limit_of_one_a_right_password_takes_back_the_lock_its_own_count_started(settings):
    """Every attempt is counted before its password is checked: at a limit of one wrong password
    (LOCKOUT_FAILURE_LIMIT=1) each count starts a lock, and a right password must give it back, or
    Erin could sign in once and never again."""
    settings.LOCKOUT_FAILURE_LIMIT = 1
    now = timezone.now()
    erin = UserFactory()
    for _ in range(2):
        begin(from_address(), erin.username, now=now).succeeded()
    assert locks_for(from_address(), erin.username, now=now) == ()
    assert lockout_of(erin, now=now) is None
    wrong(erin.username, 1, at=now)
    assert lockout_of(erin, now=now).ends_at == now + COOLOFF


def test_a_right_password_never_lifts_a_lock_started_after_it_was_counted():
    now = timezone.now()
    carol = UserFactory()
    wrong(carol.username, LIMIT - 1, at=now)
    attempt = begin(from_address(), carol.username, now=now)  # checking the password...
    later = now + COOLOFF + timedelta(seconds=1)  # ... while that lock ends and another starts
    wrong(carol.username, LIMIT, at=later, ip_address="203.0.113.9")
    attempt.succeeded()
    assert lockout_of(carol, now=later).locked


def test_failures_given_back_never_go_below_none():
    """Two right passwords, the first counted before the failures' window ended and the second
    after: once both are given back, the limit takes as many wrong passwords as ever."""
    now = timezone.now()
    dave = UserFactory()
    earlier = begin(from_address(), dave.username, now=now - COOLOFF - timedelta(minutes=1))
    later = begin(from_address(), dave.username, now=now)  # the window ended: counting starts over
    earlier.succeeded()
    later.succeeded()
    assert lockout_of(dave, now=now) is None
    wrong(dave.username, LIMIT - 1, at=now)
    assert not lockout_of(dave, now=now).locked
    wrong(dave.username, 1, at=now)
    assert lockout_of(dave, now=now).locked


# --- Whose counters lock ---------------------------------------------------------------------------

def test_a_lock_is_found_for_its_username_however_typed_and_for_no_other():
    row = lock_username("mallory@acme.example")
    assert locks_for(from_address(), " Mallory@ACME.example ") == (Lock("username", row.locked_until),)
    assert is_locked(from_address(), "MALLORY@acme.example")
    assert not is_locked(from_address(), "alice@acme.example")
    # Mallory's own browser, known by its device cookie, is not locked by the username's lock.
    assert not is_locked(from_address(device_cookie_for="mallory@acme.example"), "mallory@acme.example")


def test_a_username_that_reads_as_a_blocked_address_is_not_blocked_by_it():
    LockoutFactory(scope="address", key="203.0.113.5", username="")
    user = UserFactory(username="203.0.113.5")
    assert locks_for(from_address("192.0.2.10"), "203.0.113.5") == ()
    assert with_failure_counts(User.objects.filter(pk=user.pk)).get().lockout_ends_at is None


# --- What support sees ---------------------------------------------------------------------------

def test_a_user_locked_only_in_one_browser_has_no_failures_of_the_username():
    erin = UserFactory()
    LockoutFactory(scope="device", key=f"{erin.username} browser-1", username=erin.username)
    lockout = lockout_of(erin)
    assert (lockout.failures, lockout.locked, lockout.locked_devices, lockout.ends_at) == (0, False, 1, None)


def test_a_username_lock_is_no_locked_browser():
    frank = UserFactory()
    lock_username(frank.username)
    LockoutFactory(scope="device", key=f"{frank.username} browser-1", username=frank.username,
                   locked_until=None, failures=1)
    assert lockout_of(frank).locked_devices == 0


def test_a_lockout_ends_a_cool_off_after_the_failure_that_locked_not_the_first():
    now = timezone.now()
    gina = UserFactory()
    wrong(gina.username, LIMIT - 1, at=now - timedelta(minutes=5))
    wrong(gina.username, 1, at=now)
    assert lockout_of(gina, now=now).ends_at == now + COOLOFF


def test_the_users_list_shows_no_lockout_that_has_ended():
    hana = UserFactory()
    LockoutFactory(key=hana.username, locked_until=timezone.now() - timedelta(hours=1))
    listed = with_failure_counts(User.objects.filter(pk=hana.pk)).get()
    assert listed.lockout_ends_at is None
    assert not is_locked_annotated(listed)
    assert not is_locked_annotated(UserFactory())  # not annotated: not locked


def test_a_lockout_is_over_at_the_moment_it_ends():
    ivan = UserFactory()
    row = lock_username(ivan.username)
    listed = with_failure_counts(User.objects.filter(pk=ivan.pk), now=timezone.now()).get()
    assert is_locked_annotated(listed, now=row.locked_until - timedelta(microseconds=1))
    assert not is_locked_annotated(listed, now=row.locked_until)


# --- Lifting -------------------------------------------------------------------------------------

def test_one_failure_is_something_to_unlock_and_a_given_back_attempt_is_not():
    jo, kim = UserFactory(), UserFactory()
    wrong(jo.username, 1, at=timezone.now())
    begin(from_address(), kim.username).succeeded()  # kim's counter stays, with nothing in it
    assert unlock_user(jo, acting_user=staff()) == 1
    assert unlock_user(kim, acting_user=staff()) == 0
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.UNLOCKED).count() == 1


def test_unlocking_records_where_support_did_it_from():
    lee = UserFactory()
    lock_username(lee.username)
    unlock_user(lee, acting_user=staff(), request=from_address("192.0.2.44"))
    assert AuditEvent.objects.get(kind=AuditEvent.Kind.UNLOCKED).ip_address == "192.0.2.44"


def test_lifting_an_address_block_lifts_that_block_alone():
    first = LockoutFactory(scope="address", key="203.0.113.1", username="")
    second = LockoutFactory(scope="address", key="203.0.113.2", username="")
    ended = LockoutFactory(scope="address", key="203.0.113.3", username="",
                           locked_until=timezone.now() - timedelta(minutes=1))
    mallory = lock_username("mallory@acme.example")
    engineer = staff()
    assert lift_address_block(first, acting_user=engineer, request=from_address("192.0.2.44"))
    assert list(address_blocks()) == [second]
    assert not lift_address_block(mallory, acting_user=engineer)  # a username's lock is no block
    assert is_locked(from_address(), "mallory@acme.example")
    assert not lift_address_block(ended, acting_user=engineer)
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.UNLOCKED)
    assert (event.ip_address, event.detail["address"]) == ("192.0.2.44", "203.0.113.1")


# --- What a lock records -------------------------------------------------------------------------

def test_a_lock_a_wrong_password_starts_is_recorded_for_the_user_and_what_was_typed():
    alice = UserFactory()
    wrong(alice.username, LIMIT, at=timezone.now())
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.LOCKED_OUT)
    assert (event.user, event.username, event.method, event.detail) == (
        alice, alice.username, "password", {"lock": "username", "refused": False})


def test_recording_a_lock_loads_no_user_the_caller_loaded(django_assert_num_queries):
    bob = UserFactory()
    wrong(bob.username, LIMIT - 1, at=timezone.now())
    attempt = begin(from_address(), bob.username, user=bob)
    with django_assert_num_queries(1):  # the event; bob is not looked up again
        attempt.failed()
    assert AuditEvent.objects.get(kind=AuditEvent.Kind.LOCKED_OUT).user == bob


def test_an_address_block_names_no_user_and_counts_its_own_longer_window(settings):
    settings.LOCKOUT_ADDRESS_FAILURE_LIMIT = 3
    now = timezone.now()
    alice = UserFactory()
    # Two failures half an hour ago: past the username's window, within the address's hour.
    wrong("someone@example.com", 1, at=now - timedelta(minutes=30), ip_address="203.0.113.7")
    wrong("another@example.com", 1, at=now - timedelta(minutes=30), ip_address="203.0.113.7")
    wrong(alice.username, 1, at=now, ip_address="203.0.113.7")
    assert [lock.scope for lock in locks_for(from_address("203.0.113.7"), "x@example.com", now=now)] \
        == ["address"]
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.LOCKED_OUT)
    assert (event.user, event.username, event.detail["lock"]) == (None, alice.username, "address")


def test_a_count_that_raced_another_attempt_is_not_written_over_it():
    """The compare-and-set: counters read, another attempt counted meanwhile, then this count is
    not written (it is counted again, under a lock, by ``begin``)."""
    from accounts.services import lockouts

    request = from_address()
    rows = lockouts._lock_counters(lockouts._buckets(request, "zed@example.com"), "zed@example.com")
    seen = [lockouts._version(row) for row in rows]
    begin(request, "zed@example.com").failed()  # another attempt gets in between
    for row in rows:
        row.failures += 1
    assert lockouts._write_if_unchanged(rows, seen) is False
    assert sorted(LockoutCounter.objects.values_list("failures", flat=True)) == [1, 1]


@pytest.mark.parametrize("loaded", [True, False], ids=["user loaded", "user not loaded"])
def test_an_attempt_that_raced_another_is_counted_once_on_top_of_it_and_records_its_lock(
        monkeypatch, django_assert_num_queries, loaded):
    """Another attempt counted between this one's read and its write: this one is counted again,
    the locking way, and the lock it starts is recorded as any other: for the typed username, with
    the user the caller loaded (looked up once more only when the caller loaded none)."""
    from accounts.services import lockouts

    alice = UserFactory()
    wrong(alice.username, LIMIT - 2, at=timezone.now())
    write = lockouts._write_if_unchanged

    def another_attempt_gets_in(rows, seen):
        monkeypatch.setattr(lockouts, "_write_if_unchanged", write)
        begin(from_address("203.0.113.9"), alice.username).failed()
        return write(rows, seen)

    monkeypatch.setattr(lockouts, "_write_if_unchanged", another_attempt_gets_in)
    attempt = begin(from_address("192.0.2.44"), alice.username, **({"user": alice} if loaded else {}))
    with django_assert_num_queries(1 if loaded else 2):  # the event (and the user, if not loaded)
        attempt.failed()
    lockout = lockout_of(alice)
    assert (lockout.failures, lockout.locked) == (LIMIT, True)
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.LOCKED_OUT)
    assert (event.user, event.username, event.ip_address) == (alice, alice.username, "192.0.2.44")
    assert lockout.ip_addresses[0] == "192.0.2.44"


def test_attempts_without_a_username_lock_no_username():
    for _ in range(LIMIT):
        begin(from_address("203.0.113.20"), "").failed()
    assert locks_for(from_address("192.0.2.1"), "") == ()


# --- Exactly at the edges of time ------------------------------------------------------------------

def test_a_lockout_is_over_at_its_end_and_counting_starts_over_from_nothing():
    now = timezone.now()
    kai = UserFactory()
    wrong(kai.username, LIMIT, at=now)
    ends = now + COOLOFF
    assert locks_for(from_address(), kai.username, now=ends) == ()
    wrong(kai.username, LIMIT - 1, at=ends)
    lockout = lockout_of(kai, now=ends)
    assert (lockout.failures, lockout.locked) == (LIMIT - 1, False)


def test_a_lockout_that_ended_leaves_no_failure_counted_when_the_window_grew_since(settings):
    """A deploy that lengthens the cool-off (and with it the counting window) while a lock runs: the
    lock still ends when it said, and the person then has every attempt again, not one fewer."""
    now = timezone.now()
    una = UserFactory()
    wrong(una.username, LIMIT, at=now)
    settings.LOCKOUT_COOLOFF = COOLOFF * 4
    ends = now + COOLOFF  # as the lock said; its failures are still inside the longer window
    assert locks_for(from_address(), una.username, now=ends) == ()
    wrong(una.username, LIMIT - 1, at=ends)
    lockout = lockout_of(una, now=ends)
    assert (lockout.failures, lockout.locked) == (LIMIT - 1, False)


def test_failures_a_whole_window_old_no_longer_count():
    now = timezone.now()
    lou = UserFactory()
    wrong(lou.username, LIMIT - 1, at=now - COOLOFF)
    wrong(lou.username, 1, at=now)
    assert lockout_of(lou, now=now).failures == 1


def test_lockouts_are_forgotten_exactly_after_the_quiet_time():
    forget = conf.forget_after()
    now = timezone.now()
    max_ = UserFactory()
    wrong(max_.username, LIMIT, at=now - forget)  # a first lockout, its last failure that long ago
    wrong(max_.username, LIMIT, at=now)
    assert lockout_of(max_, now=now).ends_at == now + COOLOFF  # a first lockout again, not doubled


def test_an_address_block_lasts_the_addresses_cool_off(settings):
    settings.LOCKOUT_ADDRESS_FAILURE_LIMIT = 2
    now = timezone.now()
    wrong("one@example.com", 1, at=now, ip_address="203.0.113.8")
    wrong("two@example.com", 1, at=now, ip_address="203.0.113.8")
    [block] = locks_for(from_address("203.0.113.8"), "three@example.com", now=now)
    assert block == Lock("address", now + settings.LOCKOUT_ADDRESS_COOLOFF)


def test_a_lock_started_says_when_it_ends_and_a_refused_attempt_records_the_username():
    now = timezone.now()
    ned = UserFactory()
    wrong(ned.username, LIMIT - 1, at=now)
    attempt = begin(from_address(), ned.username, now=now)
    assert attempt.started == (Lock("username", now + COOLOFF),)
    attempt.failed()
    with pytest.raises(Exception):  # noqa: B017, PT011 - LockedOut
        begin(from_address(), ned.username, user=ned, now=now)
    refused = AuditEvent.objects.get(kind=AuditEvent.Kind.LOCKED_OUT, detail__refused=True)
    assert (refused.user, refused.username) == (ned, ned.username)


@pytest.mark.parametrize("known", [True, False], ids=["a user's username", "nobody's username"])
def test_a_refused_attempt_records_the_typed_username_and_its_user_when_the_caller_loaded_none(known):
    now = timezone.now()
    typed = UserFactory().username if known else "nobody@example.com"
    wrong(typed, LIMIT, at=now)
    with pytest.raises(Exception):  # noqa: B017, PT011 - LockedOut
        begin(from_address(), typed.upper(), now=now)
    refused = AuditEvent.objects.get(kind=AuditEvent.Kind.LOCKED_OUT, detail__refused=True)
    assert refused.username == typed
    assert refused.user == (User.objects.get(username=typed) if known else None)


def test_lock_username_leaves_what_the_failures_it_stands_for_would_have():
    """The demo's and the bench's lock (``lock_username``): a first lockout, as many failures as
    the limit, recorded from the demo's address unless told another."""
    now = timezone.now()
    pia, quinn = UserFactory(), UserFactory()
    lock_username(pia.username, now=now)
    wrong(quinn.username, LIMIT, at=now, ip_address="203.0.113.66")
    made, counted = (LockoutCounter.objects.get(scope="username", key=user.username) for user in (pia, quinn))
    fields = ["failures", "lockouts", "window_started_at", "last_failure_at", "locked_until", "addresses"]
    assert [getattr(made, name) for name in fields] == [getattr(counted, name) for name in fields]
    assert lockout_of(pia).ip_addresses == ("203.0.113.66",)


def test_an_attempt_without_a_request_records_no_address():
    ola = UserFactory()
    begin(None, ola.username).failed()
    assert lockout_of(ola).ip_addresses == ()


# --- Signing in forgets its own counter only ----------------------------------------------------------

def test_signing_in_forgets_this_browsers_or_this_usernames_counter_and_no_other():
    from accounts.services.lockouts import signed_in

    user = UserFactory(username="203.0.113.5")
    LockoutFactory(scope="address", key="203.0.113.5", username="")
    LockoutFactory(scope="device", key="someone@example.com browser-9", username="someone@example.com")
    lock_username(user.username)
    signed_in(from_address("192.0.2.1"), user)
    assert set(LockoutCounter.objects.values_list("scope", "key")) == {
        ("address", "203.0.113.5"), ("device", "someone@example.com browser-9")}
    LockoutFactory(scope="device", key=f"{user.username} this-browser", username=user.username)
    signed_in(from_address("192.0.2.1", device_cookie_for=user.username), user)
    assert set(LockoutCounter.objects.values_list("scope", "key")) == {
        ("address", "203.0.113.5"), ("device", "someone@example.com browser-9")}
