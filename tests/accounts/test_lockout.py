"""Lockout per username and per client address (SECURITY.md 5 to 10, 37, 39)."""

import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.models import AuditEvent, LockoutCounter
from tests.signin import DEMO_PASSWORD, enter_password, enter_username, fail_password, sign_in

pytestmark = pytest.mark.django_db

LIMIT = settings.LOCKOUT_FAILURE_LIMIT


def failures_recorded(*, username: str | None = None, ip_address: str | None = None) -> int:
    """The failures counted now against a username (browsers without its device cookie) or an address."""
    scope, key = ("username", username) if username is not None else ("address", ip_address)
    counter = LockoutCounter.objects.filter(scope=scope, key=key).first()
    return counter.failures if counter else 0


def test_failures_past_the_limit_lock_the_username(client, demo, hash_calls):
    fail_password(client, "alice@acme.example", times=LIMIT)
    enter_username(client, "alice@acme.example")
    with hash_calls() as calls:
        response = enter_password(client, DEMO_PASSWORD)  # even the right password
    assert calls.count == 0  # SECURITY.md 9: a locked-out attempt runs no hash
    assert response.status_code == 429
    page = response.content.decode()
    assert "Your sign-in is locked" in page
    assert "You can try again after" in page
    assert "Authorized Contact" in page and "Mitel support" in page
    assert 'href="/password/forgot/"' in page
    assert "_auth_user_id" not in client.session


def test_the_lockout_is_recorded_once_with_the_failures_before_it(client, demo):
    fail_password(client, "alice@acme.example", times=LIMIT)
    enter_username(client, "alice@acme.example")
    enter_password(client, DEMO_PASSWORD)
    # Five wrong passwords, the lockout they caused, then the refused sixth attempt.
    events = list(AuditEvent.objects.order_by("id").values_list("kind", "detail"))
    assert events.count((AuditEvent.Kind.SIGN_IN_FAILED, {"reason": "bad_credentials"})) == LIMIT
    assert events.count((AuditEvent.Kind.LOCKED_OUT, {"lock": "username", "refused": False})) == 1
    assert events[-1] == (AuditEvent.Kind.LOCKED_OUT, {"lock": "username", "refused": True})
    assert len(events) == LIMIT + 2
    event = AuditEvent.objects.filter(kind=AuditEvent.Kind.LOCKED_OUT).first()
    assert event.user == demo["alice@acme.example"] and event.account.name == "Acme Dental"


def test_the_lockout_page_says_when_it_ends(client, demo):
    fail_password(client, "alice@acme.example", times=LIMIT)
    response = fail_password(client, "alice@acme.example")
    ends_at = response.context["ends_at"]
    expected = timezone.now() + settings.LOCKOUT_COOLOFF
    assert abs((ends_at - expected).total_seconds()) < 60


def test_mallory_is_locked_out_but_next_does_not_say_so(client, demo):
    response = enter_username(client, "mallory@acme.example")
    assert response["Location"] == "/signin/authenticate/"
    response = enter_password(client, DEMO_PASSWORD)
    assert response.status_code == 429
    assert "Your sign-in is locked" in response.content.decode()


@pytest.mark.parametrize(
    "variants",
    [
        ["Alice@ACME.example ", "alice@acme.example", " ALICE@acme.EXAMPLE"],
        ["ａｌｉｃｅ@acme.example", "Alice@Acme.Example"],
    ],
)
def test_case_space_and_unicode_variants_count_as_one_username(demo, variants):
    for attempt in range(LIMIT):
        fail_password(Client(REMOTE_ADDR=f"198.51.100.{attempt}"), variants[attempt % len(variants)])
    assert failures_recorded(username="alice@acme.example") == LIMIT
    response = fail_password(Client(REMOTE_ADDR="198.51.100.200"), "alice@acme.example")
    assert response.status_code == 429


def test_one_client_address_guessing_many_usernames_is_blocked_past_the_address_limit(demo, settings):
    """Once "locked at the per-username limit" (issue 15): an address is now blocked only past
    LOCKOUT_ADDRESS_FAILURE_LIMIT, and then only for usernames whose device cookie it lacks."""
    settings.LOCKOUT_ADDRESS_FAILURE_LIMIT = 4 * LIMIT
    attacker = Client(REMOTE_ADDR="203.0.113.7")
    for number in range(4 * LIMIT - 1):
        assert fail_password(attacker, f"guess{number}@acme.example").status_code == 200
    response = fail_password(attacker, "alice@acme.example")
    assert response.status_code == 429
    assert "too many unsuccessful sign-in attempts from your network" in response.content.decode()
    assert fail_password(attacker, "bob@acme.example").status_code == 429
    assert fail_password(Client(REMOTE_ADDR="203.0.113.8"), "alice@acme.example").status_code == 200


def test_a_spoofed_forwarded_for_is_ignored_without_trusted_proxies(demo):
    for number in range(LIMIT):
        spoofer = Client(REMOTE_ADDR="203.0.113.7",
                         headers={"X-Forwarded-For": f"192.0.2.{number}"})
        fail_password(spoofer, f"guess{number}@acme.example")
    assert failures_recorded(ip_address="203.0.113.7") == LIMIT
    assert failures_recorded(ip_address="192.0.2.0") == 0


def test_behind_a_trusted_proxy_only_the_address_it_appended_counts(demo, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for number in range(LIMIT):
        # The client writes whatever it likes on the left; the proxy appends the real address.
        client = Client(REMOTE_ADDR="10.0.0.1",
                        headers={"X-Forwarded-For": f"192.0.2.{number}, 203.0.113.7"})
        fail_password(client, f"guess{number}@acme.example")
    assert failures_recorded(ip_address="203.0.113.7") == LIMIT
    assert failures_recorded(ip_address="10.0.0.1") == failures_recorded(ip_address="192.0.2.0") == 0


def test_a_victim_gets_back_in_after_the_cool_off(client, demo):
    fail_password(client, "alice@acme.example", times=LIMIT)
    LockoutCounter.objects.update(
        locked_until=timezone.now() - timedelta(seconds=1),
        last_failure_at=timezone.now() - settings.LOCKOUT_COOLOFF - timedelta(seconds=1))
    assert sign_in(client, "alice@acme.example")["Location"] == settings.LOGIN_REDIRECT_URL


def test_refused_attempts_during_a_lockout_do_not_extend_it(client, demo):
    fail_password(client, "alice@acme.example", times=LIMIT)
    alice = LockoutCounter.objects.filter(scope="username", key="alice@acme.example")
    locked_until = alice.get().locked_until
    fail_password(client, "alice@acme.example", times=3)
    assert alice.get().locked_until == locked_until
    assert failures_recorded(username="alice@acme.example") == LIMIT


def test_signing_in_forgives_the_username_but_not_the_client_address(demo):
    """A targeted user's sign-in leaves every failure counted against the address, hers included
    (issue 15: it used to delete the address's records for her username)."""
    client = Client(REMOTE_ADDR="203.0.113.9")
    fail_password(client, "nobody@acme.example", times=2)
    fail_password(client, "alice@acme.example", times=2)
    sign_in(client, "alice@acme.example")
    assert failures_recorded(username="alice@acme.example") == 0
    assert failures_recorded(username="nobody@acme.example") == 2
    assert failures_recorded(ip_address="203.0.113.9") == 4


def test_with_the_cache_down_sign_in_works_and_lockout_holds(client, demo, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "IGNORE_EXCEPTIONS": True},
        }
    }
    assert sign_in(client, "alice@acme.example")["Location"] == settings.LOGIN_REDIRECT_URL
    other = Client()
    fail_password(other, "dave@acme.example", times=LIMIT)
    assert fail_password(other, "dave@acme.example").status_code == 429


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_fifty_parallel_wrong_passwords_are_all_counted_and_lock_the_user(demo, hash_calls):
    """SECURITY.md 8: no failure is lost to a race, and the user ends locked out."""
    assert connection.vendor == "postgresql"
    attempts, errors = 50, []
    clients = [Client(REMOTE_ADDR=f"198.51.100.{n}", headers={"User-Agent": f"agent {n % 3}"})
               for n in range(attempts)]
    for client in clients:
        enter_username(client, "alice@acme.example")
    barrier = threading.Barrier(attempts)

    def attack(client):
        try:
            barrier.wait()
            enter_password(client, "a wrong password")
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    with hash_calls() as calls:
        threads = [threading.Thread(target=attack, args=(c,)) for c in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    assert calls.count >= LIMIT  # the passwords that were checked ...
    assert failures_recorded(username="alice@acme.example") >= calls.count  # ... all counted
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.SIGN_IN_FAILED).count() == calls.count
    assert fail_password(Client(), "alice@acme.example").status_code == 429
