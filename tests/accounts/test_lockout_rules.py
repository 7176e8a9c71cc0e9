"""What support sees of a lockout, and what unlocking clears (accounts/services/lockouts.py)."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.utils import timezone

from accounts.models import AuditEvent, User
from accounts.services.lockouts import locked_out, lockout_of, unlock_user, with_failure_counts
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

LIMIT = settings.AXES_FAILURE_LIMIT
COOLOFF = settings.AXES_COOLOFF_TIME


def failures(username: str, count: int, ip_address: str | None = "198.51.100.1", *, ago=timedelta(0)):
    attempt = AccessAttempt.objects.create(
        username=username, ip_address=ip_address, user_agent="x", http_accept="*/*",
        path_info="/signin/authenticate/", get_data="", post_data="", failures_since_start=count)
    AccessAttempt.objects.filter(pk=attempt.pk).update(attempt_time=timezone.now() - ago)
    return AccessAttempt.objects.get(pk=attempt.pk)


def staff():
    return UserFactory(is_staff=True)


def test_a_user_without_failures_has_no_lockout():
    pat = UserFactory()
    failures("someone.else@example.com", LIMIT)
    assert lockout_of(pat) is None


def test_failures_from_several_addresses_add_up_for_one_username():
    pat = UserFactory()
    failures(pat.username, 2, "198.51.100.2")
    latest = failures(pat.username, 1, "198.51.100.1", ago=timedelta(minutes=1))
    earlier = failures(pat.username, 1, None, ago=timedelta(minutes=3))
    lockout = lockout_of(pat)
    assert (lockout.failures, lockout.limit, lockout.locked) == (4, LIMIT, False)
    assert lockout.ip_addresses == ("198.51.100.1", "198.51.100.2")
    assert earlier.attempt_time < latest.attempt_time <= lockout.last_failure_at
    assert lockout.ends_at == lockout.last_failure_at + COOLOFF


def test_the_lockout_ends_a_cool_off_after_the_last_failure():
    pat = UserFactory()
    last = failures(pat.username, LIMIT, ago=timedelta(minutes=5))
    lockout = lockout_of(pat)
    assert lockout.last_failure_at == last.attempt_time
    assert lockout.ends_at == last.attempt_time + COOLOFF


def test_the_limit_itself_locks_one_failure_less_does_not():
    at_limit, below = UserFactory(), UserFactory()
    failures(at_limit.username, LIMIT)
    failures(below.username, LIMIT - 1)
    assert lockout_of(at_limit).locked and not lockout_of(below).locked
    assert list(locked_out(User.objects.all())) == [at_limit]


def test_failures_older_than_the_cool_off_no_longer_count():
    pat = UserFactory()
    failures(pat.username, LIMIT, ago=COOLOFF + timedelta(minutes=1))
    assert lockout_of(pat) is None
    assert not locked_out(User.objects.all()).exists()
    assert with_failure_counts(User.objects.filter(pk=pat.pk)).get().lockout_failures == 0
    recent = failures(pat.username, 1, "198.51.100.9", ago=COOLOFF - timedelta(minutes=1))
    assert lockout_of(pat).failures == 1 and lockout_of(pat).last_failure_at == recent.attempt_time


def test_failures_are_seen_as_of_the_time_asked_about():
    pat = UserFactory()
    failures(pat.username, LIMIT, ago=COOLOFF + timedelta(minutes=1))
    then = timezone.now() - timedelta(minutes=10)
    assert lockout_of(pat, now=then).failures == LIMIT
    assert with_failure_counts(User.objects.filter(pk=pat.pk), now=then).get().lockout_failures == LIMIT
    assert list(locked_out(User.objects.all(), now=then)) == [pat]


def test_every_user_is_listed_with_the_failures_counting_against_them():
    pat, sam, kim = UserFactory(), UserFactory(), UserFactory()
    failures(pat.username, 2, "198.51.100.1")
    failures(pat.username, 1, "198.51.100.2")
    failures(sam.username, LIMIT)
    counts = dict(with_failure_counts(User.objects.filter(pk__in=[pat.pk, sam.pk, kim.pk]))
                  .values_list("username", "lockout_failures"))
    assert counts == {pat.username: 3, sam.username: LIMIT, kim.username: 0}


def test_unlocking_clears_the_username_and_keeps_the_attackers_address_counted():
    pat, sam = UserFactory(), UserFactory()
    account = MembershipFactory(user=pat).account
    failures(pat.username, LIMIT, "203.0.113.66")
    failures(sam.username, 2, "198.51.100.2")
    failures("", LIMIT, "203.0.113.66")
    engineer = staff()
    assert unlock_user(pat, acting_user=engineer) == 1
    assert lockout_of(pat) is None
    assert set(AccessAttempt.objects.values_list("username", "ip_address")) == {
        (sam.username, "198.51.100.2"), ("", "203.0.113.66")}
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
    failures(pat.username, LIMIT, ago=COOLOFF + timedelta(minutes=1))
    assert unlock_user(pat, acting_user=staff()) == 1
    assert AuditEvent.objects.get(kind=AuditEvent.Kind.UNLOCKED).detail == {"failures": 0}


def test_unlocking_a_user_who_is_not_locked_out_records_nothing():
    pat, sam = UserFactory(), UserFactory()
    failures(sam.username, LIMIT)
    assert unlock_user(pat, acting_user=staff()) == 0
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.UNLOCKED).exists()
    assert lockout_of(sam).locked
