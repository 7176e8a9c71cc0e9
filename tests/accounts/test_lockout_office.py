"""An office is not locked out by its typos, a victim's own browser still signs in, and the
cool-off grows with each lockout (SECURITY.md 10, 39, 40; issue 15)."""

import os
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import signing
from django.test import Client
from django.utils import timezone

from accounts import conf, devices
from accounts.models import AuditEvent, LockoutCounter
from accounts.services import lockouts
from tests.factories import PASSWORD, MembershipFactory
from tests.signin import DEMO_PASSWORD, enter_password, enter_username, fail_password, sign_in

pytestmark = pytest.mark.django_db

LIMIT = settings.LOCKOUT_FAILURE_LIMIT
OFFICE = "198.51.100.20"
ELSEWHERE = "203.0.113.50"
DEVICE_COOKIE = conf.get("LOCKOUT_DEVICE_COOKIE_NAME")


def browser(address: str, device_cookie: str = "") -> Client:
    client = Client(REMOTE_ADDR=address)
    if device_cookie:
        client.cookies[DEVICE_COOKIE] = device_cookie
    return client


def device_cookie_after_signing_in(username: str, address: str, password: str = DEMO_PASSWORD) -> str:
    """The device cookie a browser holds once ``username`` signed in there."""
    client = browser(address)
    sign_in(client, username, password)
    return client.cookies[DEVICE_COOKIE].value


def counter(scope: str, key: str) -> LockoutCounter | None:
    return LockoutCounter.objects.filter(scope=scope, key=key).first()


# --- The office (SECURITY.md 39) ----------------------------------------------------------------


def test_six_colleagues_behind_one_address_each_mistype_once_and_a_seventh_signs_in(db):
    colleagues = [MembershipFactory().user for _ in range(7)]
    for colleague in colleagues[:6]:
        assert fail_password(browser(OFFICE), colleague.username).status_code == 200
    seventh = browser(OFFICE)
    enter_username(seventh, colleagues[6].username)
    assert enter_password(seventh, PASSWORD)["Location"] == "/signin/stay/"
    # ... and the six who mistyped sign in too, from the same address.
    for colleague in colleagues[:6]:
        sign_in(browser(OFFICE), colleague.username, PASSWORD)
    assert counter("address", OFFICE).locked_until is None
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.LOCKED_OUT).exists()


def test_an_address_is_never_blocked_at_the_per_username_limit(db):
    assert settings.LOCKOUT_ADDRESS_FAILURE_LIMIT >= 4 * LIMIT
    office = browser(OFFICE)
    for number in range(LIMIT * 2):
        assert fail_password(office, f"typo{number}@acme.example").status_code == 200
    assert counter("address", OFFICE).failures == LIMIT * 2


def test_an_address_limit_near_the_username_limit_is_refused_at_start_up(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.LOCKOUT_ADDRESS_FAILURE_LIMIT = LIMIT
    with pytest.raises(ImproperlyConfigured):
        conf.check()


def test_a_spraying_address_is_blocked_but_browsers_it_knows_still_sign_in(demo, settings):
    settings.LOCKOUT_ADDRESS_FAILURE_LIMIT = 4 * LIMIT
    alices_cookie = device_cookie_after_signing_in("alice@acme.example", OFFICE)
    for number in range(4 * LIMIT):
        fail_password(browser(OFFICE), f"sprayed{number}@acme.example")
    response = fail_password(browser(OFFICE), "dave@acme.example")
    assert response.status_code == 429
    page = response.content.decode()
    assert "too many unsuccessful sign-in attempts from your network" in page
    assert "A password reset does not lift it" in page
    # Alice's browser, at the same address, signs in with the right password.
    sign_in(browser(OFFICE, alices_cookie), "alice@acme.example")
    assert counter("address", OFFICE).locked_until > timezone.now()


def test_the_address_block_ends_after_its_cool_off(demo, settings):
    settings.LOCKOUT_ADDRESS_FAILURE_LIMIT = 4 * LIMIT
    for number in range(4 * LIMIT):
        fail_password(browser(OFFICE), f"sprayed{number}@acme.example")
    assert fail_password(browser(OFFICE), "alice@acme.example").status_code == 429
    LockoutCounter.objects.filter(scope="address").update(
        locked_until=timezone.now() - timedelta(seconds=1))
    sign_in(browser(OFFICE), "alice@acme.example")


# --- The victim (SECURITY.md 40) ----------------------------------------------------------------


def test_alice_signs_in_from_her_own_browser_while_an_attacker_keeps_her_username_locked(demo, hash_calls):
    alices_cookie = device_cookie_after_signing_in("alice@acme.example", OFFICE)
    attacker = browser(ELSEWHERE)
    fail_password(attacker, "alice@acme.example", times=LIMIT)
    assert fail_password(attacker, "alice@acme.example").status_code == 429

    own_browser = browser(OFFICE, alices_cookie)
    assert sign_in(own_browser, "alice@acme.example")["Location"] == settings.LOGIN_REDIRECT_URL
    signed_in = AuditEvent.objects.filter(kind=AuditEvent.Kind.SIGN_IN, user=demo["alice@acme.example"])
    assert signed_in.count() == 2

    # The attacker stays locked, even with the right password, and no password of theirs is hashed.
    enter_username(attacker, "alice@acme.example")
    with hash_calls() as calls:
        response = enter_password(attacker, DEMO_PASSWORD)
    assert response.status_code == 429 and calls.count == 0
    assert "too many wrong passwords for this username" in response.content.decode()
    # So does any other browser without her device cookie, at her own address too.
    assert fail_password(browser(OFFICE), "alice@acme.example").status_code == 429


def test_the_device_cookie_is_signed_http_only_lax_and_long_lived(demo, settings):
    client = browser(OFFICE)
    response = sign_in(client, "alice@acme.example")
    cookie = response.cookies[DEVICE_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) >= 180 * 24 * 3600
    assert not cookie["secure"]  # tests run with HTTPS=0; in production it follows SESSION_COOKIE_SECURE
    entries = signing.loads(cookie.value, salt=devices.SALT)
    assert [username for username, _ in entries] == ["alice@acme.example"]
    settings.SESSION_COOKIE_SECURE = True
    assert sign_in(browser(OFFICE), "alice@acme.example").cookies[DEVICE_COOKIE]["secure"]


def test_a_forged_or_borrowed_device_cookie_counts_as_none(demo):
    alices_cookie = device_cookie_after_signing_in("alice@acme.example", OFFICE)
    fail_password(browser(ELSEWHERE), "alice@acme.example", times=LIMIT)
    tampered = alices_cookie[:-2] + ("AA" if not alices_cookie.endswith("AA") else "BB")
    assert fail_password(browser(OFFICE, tampered), "alice@acme.example").status_code == 429
    # Made with another key: the signature does not match.
    forged = signing.dumps([["alice@acme.example", "x" * 22]], key="not the secret key", salt=devices.SALT)
    assert fail_password(browser(OFFICE, forged), "alice@acme.example").status_code == 429
    # Alice's cookie does not speak for dave.
    fail_password(browser(ELSEWHERE), "dave@acme.example", times=LIMIT)
    assert fail_password(browser(OFFICE, alices_cookie), "dave@acme.example").status_code == 429


def test_failures_from_a_device_cookie_lock_out_only_that_browser(demo):
    alices_cookie = device_cookie_after_signing_in("alice@acme.example", OFFICE)
    own_browser = browser(OFFICE, alices_cookie)
    fail_password(own_browser, "alice@acme.example", times=LIMIT - 1)
    response = fail_password(own_browser, "alice@acme.example")
    assert response.status_code == 429
    assert "too many wrong passwords in this browser" in response.content.decode()
    assert counter("username", "alice@acme.example") is None
    assert counter("address", OFFICE).failures == 0  # a known browser's typos are not spraying
    # Her other browsers still sign in.
    sign_in(browser(OFFICE), "alice@acme.example")
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.LOCKED_OUT)
    assert event.detail == {"lock": "device", "refused": False}


def test_signing_in_with_a_device_cookie_forgives_that_browser_and_not_the_username(demo):
    alices_cookie = device_cookie_after_signing_in("alice@acme.example", OFFICE)
    fail_password(browser(ELSEWHERE), "alice@acme.example", times=2)
    own_browser = browser(OFFICE, alices_cookie)
    fail_password(own_browser, "alice@acme.example", times=2)
    sign_in(own_browser, "alice@acme.example")
    assert counter("username", "alice@acme.example").failures == 2
    assert not LockoutCounter.objects.filter(scope="device").exclude(failures=0).exists()


def test_a_password_reset_lifts_the_username_lock_but_not_an_address_block(demo, settings):
    settings.LOCKOUT_ADDRESS_FAILURE_LIMIT = 4 * LIMIT
    for number in range(4 * LIMIT):
        fail_password(browser(ELSEWHERE), f"sprayed{number}@acme.example")
    fail_password(browser(OFFICE), "alice@acme.example", times=LIMIT)
    assert lockouts.lift_username("alice@acme.example") == 1  # what complete_password_reset calls
    sign_in(browser(OFFICE), "alice@acme.example")
    assert fail_password(browser(ELSEWHERE), "alice@acme.example").status_code == 429


# --- The cool-off grows (SECURITY.md 10) --------------------------------------------------------


@pytest.mark.parametrize(("lockouts_in_a_row", "minutes"), [
    (1, 15), (2, 30), (3, 60), (4, 120), (5, 240), (6, 240), (40, 240),
])
def test_each_lockout_in_a_row_doubles_the_cool_off_up_to_the_cap(settings, lockouts_in_a_row, minutes):
    settings.LOCKOUT_COOLOFF = timedelta(minutes=15)
    settings.LOCKOUT_COOLOFF_MAX = timedelta(hours=4)
    assert lockouts.cool_off_for("username", lockouts_in_a_row) == timedelta(minutes=minutes)
    assert lockouts.cool_off_for("device", lockouts_in_a_row) == timedelta(minutes=minutes)


def fail_at(username: str, now, times: int = 1) -> None:
    for _ in range(times):
        lockouts.begin(None, username, now=now).failed()


def test_a_username_locked_again_after_its_lockout_waits_twice_as_long(db, settings):
    settings.LOCKOUT_COOLOFF = timedelta(minutes=15)
    start = timezone.now()
    fail_at("alice@acme.example", start, times=LIMIT)
    first = counter("username", "alice@acme.example")
    assert first.locked_until == start + timedelta(minutes=15)
    with pytest.raises(lockouts.LockedOut):
        lockouts.begin(None, "alice@acme.example", now=start + timedelta(minutes=14))
    again = start + timedelta(minutes=16)
    fail_at("alice@acme.example", again, times=LIMIT)
    assert counter("username", "alice@acme.example").locked_until == again + timedelta(minutes=30)
    third = again + timedelta(minutes=31)
    fail_at("alice@acme.example", third, times=LIMIT)
    assert counter("username", "alice@acme.example").locked_until == third + timedelta(minutes=60)
    # A day without failures, and the next lockout is the first again.
    later = third + timedelta(minutes=60) + conf.forget_after()
    fail_at("alice@acme.example", later, times=LIMIT)
    assert counter("username", "alice@acme.example").locked_until == later + timedelta(minutes=15)


def test_a_sign_in_after_the_lockout_starts_the_cool_off_from_the_beginning(demo):
    fail_password(browser(ELSEWHERE), "alice@acme.example", times=LIMIT)
    LockoutCounter.objects.filter(scope="username").update(locked_until=timezone.now() - timedelta(seconds=1))
    sign_in(browser(OFFICE), "alice@acme.example")
    assert counter("username", "alice@acme.example") is None


def test_counters_that_no_longer_count_are_forgotten_by_housekeeping(db):
    from django.core.management import call_command

    start = timezone.now() - timedelta(days=2)
    fail_at("sprayed@acme.example", start)
    fail_at("alice@acme.example", timezone.now())
    lockouts.lock_username("mallory@acme.example", now=start)  # ended long ago
    call_command("forget_stale_lockouts", stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert set(LockoutCounter.objects.values_list("key", flat=True)) == {"alice@acme.example"}


def test_a_steady_trickle_of_typos_never_adds_up_to_an_address_block(db, settings, rf):
    """Failures count for one window from the first of them, not for as long as more keep coming."""
    settings.LOCKOUT_ADDRESS_FAILURE_LIMIT = 20
    settings.LOCKOUT_ADDRESS_COOLOFF = timedelta(minutes=60)
    office = rf.post("/signin/authenticate/", REMOTE_ADDR=OFFICE)
    start = timezone.now()
    for minute in range(0, 200, 5):  # 40 typos, one every five minutes, each for another colleague
        at = start + timedelta(minutes=minute)
        lockouts.begin(office, f"colleague{minute}@acme.example", now=at).failed()
    assert counter("address", OFFICE).locked_until is None
    assert counter("address", OFFICE).failures <= 12


def test_an_address_block_refuses_passwords_but_not_single_sign_on(db, settings, rf):
    settings.LOCKOUT_ADDRESS_FAILURE_LIMIT = 4 * LIMIT
    sprayer = rf.post("/signin/authenticate/", REMOTE_ADDR=ELSEWHERE)
    for number in range(4 * LIMIT):
        lockouts.begin(sprayer, f"sprayed{number}@acme.example").failed()
    assert [lock.scope for lock in lockouts.locks_for(sprayer, "erin@contoso.example")] == ["address"]
    assert not lockouts.is_locked(sprayer, "erin@contoso.example")  # what the SSO step asks
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.LOCKED_OUT)
    assert event.detail == {"lock": "address", "refused": False}
    assert event.user is None and event.ip_address == ELSEWHERE
