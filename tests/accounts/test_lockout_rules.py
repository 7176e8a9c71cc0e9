"""What support sees of a lockout, and what unlocking clears (accounts/services/lockouts.py)."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import RequestFactory
from django.utils import timezone

from accounts.models import AuditEvent, LockoutCounter, User
from accounts.services.lockouts import (
    begin,
    is_locked_annotated,
    locked_out,
    lockout_of,
    unlock_user,
    with_failure_counts,
)
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

LIMIT = settings.LOCKOUT_FAILURE_LIMIT
COOLOFF = settings.LOCKOUT_COOLOFF


def failures(username: str, count: int, ip_address: str = "198.51.100.1", *, ago=timedelta(0)):
    """``count`` wrong passwords for ``username`` from ``ip_address``, ``ago``."""
    request = RequestFactory().post("/signin/authenticate/", REMOTE_ADDR=ip_address)
    at = timezone.now() - ago
    for _ in range(count):
        begin(request, username, now=at).failed()
    return at


def staff():
    return UserFactory(is_staff=True)


def test_a_user_without_failures_has_no_lockout():
    pat = UserFactory()
    failures("someone.else@example.com", LIMIT)
    assert lockout_of(pat) is None


def test_failures_from_several_addresses_add_up_for_one_username():
    pat = UserFactory()
    first = failures(pat.username, 2, "198.51.100.2", ago=timedelta(minutes=3))
    latest = failures(pat.username, 1, "198.51.100.1", ago=timedelta(minutes=1))
    lockout = lockout_of(pat)
    assert (lockout.failures, lockout.limit, lockout.locked) == (3, LIMIT, False)
    assert lockout.ip_addresses == ("198.51.100.1", "198.51.100.2")  # the latest first
    assert lockout.last_failure_at == latest
    assert lockout.ends_at == first + COOLOFF  # failures count for one window from the first


def test_the_lockout_ends_a_cool_off_after_the_failure_that_locked():
    pat = UserFactory()
    last = failures(pat.username, LIMIT, ago=timedelta(minutes=5))
    lockout = lockout_of(pat)
    assert lockout.last_failure_at == last and lockout.locked
    assert lockout.ends_at == last + COOLOFF


def test_the_limit_itself_locks_one_failure_less_does_not():
    at_limit, below = UserFactory(), UserFactory()
    failures(at_limit.username, LIMIT)
    failures(below.username, LIMIT - 1)
    assert lockout_of(at_limit).locked and not lockout_of(below).locked
    assert list(locked_out(User.objects.all())) == [at_limit]


def test_failures_older_than_the_cool_off_no_longer_count():
    pat = UserFactory()
    failures(pat.username, LIMIT, ago=COOLOFF + timedelta(minutes=1))  # locked until a minute ago
    assert lockout_of(pat) is None
    assert not locked_out(User.objects.all()).exists()
    assert not is_locked_annotated(with_failure_counts(User.objects.filter(pk=pat.pk)).get())
    recent = failures(pat.username, 1, "198.51.100.9")
    assert lockout_of(pat).failures == 1 and lockout_of(pat).last_failure_at == recent


def test_failures_are_seen_as_of_the_time_asked_about():
    pat = UserFactory()
    failures(pat.username, LIMIT, ago=COOLOFF + timedelta(minutes=1))
    then = timezone.now() - timedelta(minutes=10)
    assert lockout_of(pat, now=then).failures == LIMIT
    assert is_locked_annotated(with_failure_counts(User.objects.filter(pk=pat.pk), now=then).get(), now=then)
    assert list(locked_out(User.objects.all(), now=then)) == [pat]


def test_every_user_is_listed_with_when_their_lockout_ends():
    pat, sam, kim = UserFactory(), UserFactory(), UserFactory()
    failures(pat.username, 2, "198.51.100.1")
    locked_at = failures(sam.username, LIMIT)
    ends = dict(with_failure_counts(User.objects.filter(pk__in=[pat.pk, sam.pk, kim.pk]))
                .values_list("username", "lockout_ends_at"))
    assert ends == {pat.username: None, sam.username: locked_at + COOLOFF, kim.username: None}


def test_unlocking_clears_the_username_and_keeps_the_attackers_address_counted():
    pat, sam = UserFactory(), UserFactory()
    account = MembershipFactory(user=pat).account
    failures(pat.username, LIMIT, "203.0.113.66")
    failures(sam.username, 2, "198.51.100.2")
    engineer = staff()
    assert unlock_user(pat, acting_user=engineer) == 1
    assert lockout_of(pat) is None
    assert set(LockoutCounter.objects.values_list("scope", "key", "failures")) == {
        ("username", sam.username, 2), ("address", "198.51.100.2", 2), ("address", "203.0.113.66", LIMIT)}
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.UNLOCKED)
    assert (event.user, event.actor, event.account, event.detail) == (pat, engineer, account,
                                                                      {"failures": LIMIT})


def test_unlocking_records_it_in_each_account_of_the_user():
    pat = UserFactory()
    first, second = MembershipFactory(user=pat).account, MembershipFactory(user=pat).account
    failures(pat.username, LIMIT)
    unlock_user(pat, acting_user=staff())
    assert sorted(AuditEvent.objects.filter(kind=AuditEvent.Kind.UNLOCKED)
                  .values_list("account", flat=True)) == sorted([first.pk, second.pk])


def test_unlocking_failures_older_than_the_cool_off_records_no_failures():
    pat = UserFactory()
    failures(pat.username, LIMIT - 1, ago=COOLOFF + timedelta(minutes=1))
    assert unlock_user(pat, acting_user=staff()) == 1
    assert AuditEvent.objects.get(kind=AuditEvent.Kind.UNLOCKED).detail == {"failures": 0}


def test_unlocking_a_user_who_is_not_locked_out_records_nothing():
    pat, sam = UserFactory(), UserFactory()
    failures(sam.username, LIMIT)
    assert unlock_user(pat, acting_user=staff()) == 0
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.UNLOCKED).exists()
    assert lockout_of(sam).locked
