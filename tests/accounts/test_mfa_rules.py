"""accounts/services/totp.py at its edges: what each refusal says, whose devices and codes count, and
what the sign-in and the Connect Portal read of a user's second factors."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP, hotp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AuditEvent, User
from accounts.services import totp
from tests.accounts.mfa_helpers import TRENT, code_for, enter_code
from tests.factories import TOTPDeviceFactory, UserFactory
from tests.signin import DEMO_PASSWORD, enter_password, enter_username, open_portal_as

pytestmark = pytest.mark.django_db


def backup_codes_for(user: User, codes: list[str], *, confirmed: bool = True) -> StaticDevice:
    device = StaticDevice.objects.create(user=user, name="Backup codes", confirmed=confirmed)
    for code in codes:
        StaticToken.objects.create(device=device, token=totp._stored(code))
    return device


# --- What each refusal says ----------------------------------------------------------------------

def test_each_refusal_says_what_to_do_in_full():
    assert str(totp.CodeRefused()) == "That code is not right. Check it and try again."
    assert str(totp.CodeMalformed()) == (
        "Enter the 6-digit code from your authenticator app, or one of your backup codes.")
    assert str(totp.CodeFromOtherTime()) == (
        "That code is not for the current time. Check that the clock on the device with your "
        "authenticator app is set automatically, then enter the code it shows now.")
    assert str(totp.EnrolmentExpired()) == (
        "This set-up has expired. Scan the new QR code below, then enter the code it shows.")
    assert str(totp.MfaRequiredByAccount()) == (
        "Your Mitel account requires two-step verification: you can replace your authenticator "
        "app, but not remove it.")


@pytest.mark.parametrize(("failures", "wait", "message"), [
    (1, 1, "Your last code was wrong, and this one came too soon after it to be checked. "
           "Wait 1 second, then enter it again."),
    (1, 8, "Your last code was wrong, and this one came too soon after it to be checked. "
           "Wait 8 seconds, then enter it again."),
    (3, 1, "3 wrong codes in a row: each one makes the next wait longer. Wait 1 second, then "
           "enter the code your app shows."),
    (3, 8, "3 wrong codes in a row: each one makes the next wait longer. Wait 8 seconds, then "
           "enter the code your app shows."),
])
def test_a_throttled_code_says_how_many_were_wrong_and_how_long_to_wait(failures, wait, message):
    until = timezone.now() + timedelta(seconds=wait) - timedelta(milliseconds=100)
    assert str(totp.Throttled(until, failures)) == message


def test_a_wait_after_one_wrong_code_is_the_default():
    until = timezone.now() + timedelta(seconds=2)
    assert str(totp.Throttled(until)).startswith("Your last code was wrong")


# --- What a user has -----------------------------------------------------------------------------

def test_the_second_factors_loaded_with_the_user_are_those_the_user_has():
    """The sign-in reads them in the query that loads the user (``with_second_factors``): the same
    answers as ``has_authenticator`` and ``has_device``, for each way of having or not having one."""
    users = {
        "nothing": UserFactory(),
        "authenticator": TOTPDeviceFactory().user,
        "one backup code": UserFactory(),
        "unconfirmed backup codes": UserFactory(),
        "an enrolment not confirmed": TOTPDeviceFactory(confirmed=False).user,
    }
    backup_codes_for(users["one backup code"], ["abcdefghjk"])
    backup_codes_for(users["unconfirmed backup codes"], ["abcdefghjk", "mnpqrstuvw"], confirmed=False)
    expected = {  # has_authenticator, has_device
        "nothing": (False, False), "authenticator": (True, True), "one backup code": (False, True),
        "unconfirmed backup codes": (False, False), "an enrolment not confirmed": (False, False),
    }
    loaded = {user.pk: user for user in totp.with_second_factors(User.objects.all(), "pk")}
    for name, user in users.items():
        row = loaded[user.pk]
        assert (row.has_authenticator_, row.has_authenticator_ or row.has_backup_codes_) \
            == expected[name], name
        assert (totp.has_authenticator(user), totp.has_device(user)) == expected[name], name


def test_the_authenticator_shown_is_the_confirmed_one_not_a_set_up_in_progress():
    device = TOTPDeviceFactory()
    totp.start_enrolment(device.user)
    assert totp.authenticator(device.user) == device


# --- Enrolment -----------------------------------------------------------------------------------

def test_a_set_up_shows_only_its_own_secret():
    """A session holding the id of an older set-up, another user's, or a confirmed device's gets
    no secret: the secret of a device it did not start is never shown (nor confirmed)."""
    alice, bob = UserFactory(), UserFactory()
    older = totp.start_enrolment(alice)
    newer = totp.start_enrolment(alice)
    assert totp.pending_enrolment(alice, newer.device.pk) == newer
    assert totp.pending_enrolment(alice, older.device.pk) is None
    assert totp.pending_enrolment(bob, newer.device.pk) is None
    confirmed = TOTPDeviceFactory(user=bob)
    assert totp.pending_enrolment(bob, confirmed.pk) is None


def test_a_set_up_is_confirmed_only_by_its_user_and_only_once():
    alice, bob = UserFactory(), UserFactory()
    alices = totp.start_enrolment(alice).device
    with pytest.raises(totp.EnrolmentExpired):
        totp.confirm_enrolment(bob, alices.pk, code_for(alices), replace=True)
    assert not TOTPDevice.objects.get(pk=alices.pk).confirmed
    assert not totp.has_device(bob)

    device, codes = totp.confirm_enrolment(alice, alices.pk, code_for(alices))
    # The same confirmation sent again (say, the page reloaded) issues no new backup codes.
    with pytest.raises(totp.EnrolmentExpired):
        totp.confirm_enrolment(alice, device.pk, code_for(device), replace=True)
    assert list(TOTPDevice.objects.filter(user=alice)) == [device]
    assert totp.verify_code(alice, codes[0]).user == alice


def test_a_set_up_throttled_after_a_wrong_code_says_how_long_to_wait(settings):
    alice = UserFactory()
    device = totp.start_enrolment(alice).device
    failed_at = timezone.now()
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=3,
                                                   throttling_failure_timestamp=failed_at)
    with pytest.raises(totp.Throttled) as throttled:
        totp.confirm_enrolment(alice, device.pk, code_for(device))
    assert throttled.value.until == failed_at + timedelta(seconds=settings.OTP_TOTP_THROTTLE_FACTOR * 4)
    assert str(throttled.value).startswith("3 wrong codes in a row")
    assert not TOTPDevice.objects.get(pk=device.pk).confirmed


@pytest.mark.usefixtures("demo")
def test_setting_up_an_authenticator_signs_out_the_other_sessions_and_says_so(
        client, mailoutbox, django_capture_on_commit_callbacks):
    alice = User.objects.get(username="alice@acme.example")
    other = open_portal_as(Client(), alice)  # alice on another computer
    open_portal_as(client, alice)
    client.post("/me/mfa/setup/", {"password": DEMO_PASSWORD})
    device = TOTPDevice.objects.get(user=alice, confirmed=False)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/me/mfa/setup/confirm/", {"code": code_for(device)},
                               HTTP_USER_AGENT="Alice's browser")
    assert response.status_code == 200
    assert client.get("/me/").status_code == 200
    assert other.get("/me/")["Location"].startswith("/signin/")

    enrolled = AuditEvent.objects.get(kind=AuditEvent.Kind.MFA_ENROLLED, user=alice)
    assert (enrolled.actor, enrolled.method, enrolled.ip_address, enrolled.user_agent) == \
        (alice, "totp", "127.0.0.1", "Alice's browser")
    assert enrolled.detail == {"device": "authenticator", "replaced": False, "backup_codes": 10,
                               "sessions_ended": 1}
    ended = AuditEvent.objects.get(kind=AuditEvent.Kind.SESSIONS_ENDED, user=alice)
    assert (ended.ip_address, ended.detail["reason"]) == ("127.0.0.1", "mfa_enrolled")
    [notice] = mailoutbox
    assert "Your other sessions have been signed out." in notice.body
    assert "reset your password now: http://testserver/password/forgot/" in notice.body


# --- Verification --------------------------------------------------------------------------------

def test_only_the_users_own_confirmed_devices_accept_a_code():
    trent = TOTPDeviceFactory().user
    alice = UserFactory()
    trents_codes = ["abcdefghjk"]
    backup_codes_for(trent, trents_codes)
    with pytest.raises(totp.CodeRefused):
        totp.verify_code(alice, code_for(TOTPDevice.objects.get(user=trent)))
    with pytest.raises(totp.CodeRefused):
        totp.verify_code(alice, trents_codes[0])
    # A set-up Trent started and did not finish: its codes do not sign him in.
    enrolling = totp.start_enrolment(trent).device
    with pytest.raises(totp.CodeRefused):
        totp.verify_code(trent, code_for(enrolling))
    assert TOTPDevice.objects.filter(user=trent).count() == 2


def test_a_wrong_backup_code_is_recorded_as_one(client):
    trent = TOTPDeviceFactory().user
    backup_codes_for(trent, ["abcdefghjk"])
    with pytest.raises(totp.CodeRefused):
        totp.verify_code(trent, "mnpqrstuvw")
    assert AuditEvent.objects.get(kind=AuditEvent.Kind.MFA_FAILED, user=trent).method == "backup_code"


@pytest.mark.usefixtures("demo")
def test_a_wrong_code_at_sign_in_is_recorded_with_the_address_account_and_application(client):
    enter_username(client, TRENT, app="connect-portal")  # as the Connect Portal's link opens it
    assert enter_password(client, DEMO_PASSWORD)["Location"] == "/signin/code/"
    device = TOTPDevice.objects.get(user__username=TRENT, confirmed=True)
    enter_code(client, f"{(int(code_for(device)) + 1) % 10**6:06d}")
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.MFA_FAILED)
    assert event.ip_address == "127.0.0.1"
    assert event.account.account_number == "100001"
    assert event.application.slug == "connect-portal"


def test_a_code_for_the_real_time_from_an_authenticator_known_to_run_ahead_is_for_another_time():
    """django-otp learns how far an authenticator's clock is off (``drift``) and expects its codes
    there: a code for the real time is then refused, as being for another time."""
    device = TOTPDeviceFactory()
    TOTPDevice.objects.filter(pk=device.pk).update(drift=3)
    device.refresh_from_db()
    real_now = TOTP(device.bin_key, device.step, device.t0, device.digits, 0).t()
    with pytest.raises(totp.CodeFromOtherTime):
        totp.verify_code(device.user, f"{hotp(device.bin_key, real_now, device.digits):06d}")


def test_backup_codes_stored_by_an_earlier_release_still_work(settings):
    """The stored form of a backup code (a keyed hash) is fixed: a change to it would silently
    take every issued backup code away from its user at the next deploy."""
    settings.SECRET_KEY = "a-key-of-an-earlier-release-0123456789-abcdefghijklmnopqrstuvwxyz"
    trent = TOTPDeviceFactory().user
    device = StaticDevice.objects.create(user=trent, name="Backup codes", confirmed=True)
    StaticToken.objects.create(device=device, token="faCocja8AShCWiY3")  # as written for abcde-fghjk
    assert totp.verify_code(trent, "ABCDE-FGHJK") == device
    assert totp.backup_codes_left(trent) == 0


def test_with_two_authenticators_waiting_the_wait_told_is_the_longer(settings):
    trent = TOTPDeviceFactory().user
    TOTPDeviceFactory(user=trent, name="Old phone")
    now = timezone.now()
    for failures, device in enumerate(TOTPDevice.objects.filter(user=trent).order_by("pk"), start=3):
        TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=failures,
                                                       throttling_failure_timestamp=now)
    with pytest.raises(totp.Throttled) as throttled:
        totp.verify_code(trent, "123456")
    assert throttled.value.until == now + timedelta(seconds=settings.OTP_TOTP_THROTTLE_FACTOR * 2**3)
    assert str(throttled.value).startswith("4 wrong codes in a row")


# --- Sessions without the code -------------------------------------------------------------------

@pytest.mark.usefixtures("demo")
def test_personal_information_opens_only_to_a_session_verified_with_the_users_device(client):
    trent = User.objects.get(username=TRENT)
    device = TOTPDevice.objects.get(user=trent, confirmed=True)
    open_portal_as(client, trent)  # signed in before the device was added: no code entered
    response = client.get("/me/")
    assert response.status_code == 302 and response["Location"].startswith("/signin/")
    open_portal_as(client, trent, otp_device=device)
    assert client.get("/me/").status_code == 200
    # A set-up in progress is not a device the session lacks the code of.
    alice = User.objects.get(username="alice@acme.example")
    totp.start_enrolment(alice)
    open_portal_as(client, alice)
    assert client.get("/me/").status_code == 200


# --- Why a code was refused, on a clock held still -------------------------------------------------

NOW = 1_700_000_000  # a Tuesday in November 2023: far from the clock these tests run at
STEP = NOW // 30  # the time step an authenticator shows a code for at NOW


def never_used_code(device: TOTPDevice, around: int) -> str:
    """Six digits that no time step within 11 of ``around`` gives."""
    near = {hotp(device.bin_key, t, device.digits) for t in range(around - 11, around + 12)}
    return f"{next(value for value in range(10**6) if value not in near):06d}"


@pytest.mark.parametrize(("last_used", "typed", "told"), [
    (None, -5, totp.CodeFromOtherTime),  # minutes behind
    (None, -10, totp.CodeFromOtherTime),
    (None, -11, totp.CodeRefused),  # too far to be taken for the user's
    (None, 2, totp.CodeFromOtherTime),  # just past the tolerance of one step
    (None, 10, totp.CodeFromOtherTime),
    (None, 11, totp.CodeRefused),
    (-1, -1, totp.CodeReused),  # the code of the step used last, again
    (0, 0, totp.CodeReused),
    (0, "never", totp.CodeRefused),  # used this step, but this is no code of the user's
    (-1, "never", totp.CodeRefused),
])
def test_why_a_code_was_refused(last_used, typed, told):
    device = TOTPDeviceFactory()
    if last_used is not None:
        device.last_t = STEP + last_used
    value = never_used_code(device, STEP) if typed == "never" else \
        f"{hotp(device.bin_key, STEP + typed, device.digits):06d}"
    assert type(totp.why_refused(device, value, now=NOW)) is told



def test_the_first_time_step_is_a_step_like_any_other():
    """-1 is "never used"; step 0 (1970's first 30 seconds, reachable on a clock held still) is a
    used step, and its code typed again is told as used again."""
    device = TOTPDeviceFactory()
    device.last_t = 0
    assert type(totp.why_refused(device, f"{hotp(device.bin_key, 0, 6):06d}", now=45)) \
        is totp.CodeReused

