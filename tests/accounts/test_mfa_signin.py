"""The "Verify code" sign-in step with demo user trent (docs/design.md 3.4; SECURITY.md 14, 23, 24)."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import RequestFactory
from django.utils import timezone
from django_otp.oath import TOTP, hotp
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AuditEvent, LockoutCounter, MitelAccount
from accounts.services import totp
from signin.controller import current_step
from signin.flow import FlowState, SigninFlow
from tests.accounts.mfa_helpers import (
    ALICE,
    TRENT,
    code_for,
    enter_code,
    post_step,
    sign_in_with_password,
    signed_in_user,
    stay_signed_in,
    trents_device,
    verified_device_id,
    wrong_code_for,
)
from tests.factories import LockoutFactory

pytestmark = pytest.mark.usefixtures("demo")


def failures(username: str = TRENT) -> int:
    counter = LockoutCounter.objects.filter(scope="username", key=username).first()
    return counter.failures if counter else 0


def let_throttle_pass(device) -> None:
    """As if django-otp's back-off delay had gone by since the last wrong code."""
    type(device).objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=timezone.now() - timedelta(days=1))


def test_trent_is_asked_for_a_code_after_his_password_and_signs_in_with_it(client):
    response = sign_in_with_password(client, TRENT)
    assert response["Location"] == "/signin/code/"
    page = client.get("/signin/code/")
    assert page.status_code == 200
    assert "Verify code" in page.content.decode()
    assert 'autocomplete="one-time-code"' in page.content.decode()

    device = trents_device()
    response = enter_code(client, code_for(device))
    assert response["Location"] == "/signin/stay/"
    response = stay_signed_in(client)
    assert response["Location"] == "/me/"
    assert signed_in_user(client).username == TRENT
    assert verified_device_id(client) == device.persistent_id
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.SIGN_IN, user__username=TRENT).exists()


def test_an_authenticator_removed_before_the_end_of_the_sign_in_verifies_nothing(client):
    """Support removes trent's authenticator while he answers "Stay signed in?": he is signed in
    with his password, and his session is verified by no device."""
    sign_in_with_password(client, TRENT)
    enter_code(client, code_for(trents_device()))
    TOTPDevice.objects.filter(user__username=TRENT).delete()
    assert stay_signed_in(client)["Location"] == "/me/"
    assert signed_in_user(client).username == TRENT
    assert verified_device_id(client) is None


def test_a_code_typed_with_spaces_or_full_width_digits_is_accepted(client):
    sign_in_with_password(client, TRENT)
    code = code_for(trents_device())
    typed = " " + "".join(chr(ord(digit) + 0xFEE0) for digit in code[:3]) + " " + code[3:] + " "
    assert enter_code(client, typed)["Location"] == "/signin/stay/"


def test_trent_signs_in_with_a_backup_code_which_then_works_no_more(client, demo):
    codes = totp.issue_backup_codes(demo[TRENT])
    sign_in_with_password(client, TRENT)
    response = enter_code(client, codes[0].upper().replace("-", " "))
    assert response["Location"] == "/signin/stay/"
    stay_signed_in(client)
    backup_device = StaticDevice.objects.get(user__username=TRENT)
    assert verified_device_id(client) == backup_device.persistent_id
    assert totp.backup_codes_left(demo[TRENT]) == 9

    client.logout()
    sign_in_with_password(client, TRENT)
    response = enter_code(client, codes[0])
    assert response.status_code == 200
    assert "That code is not right" in response.content.decode()
    assert signed_in_user(client) is None


def test_a_totp_code_works_once(client):
    """SECURITY.md 23: django-otp's ``last_t`` refuses a code at or before the last one used."""
    device = trents_device()
    code = code_for(device)
    sign_in_with_password(client, TRENT)
    enter_code(client, code)
    stay_signed_in(client)
    assert signed_in_user(client).username == TRENT

    client.logout()
    sign_in_with_password(client, TRENT)
    response = enter_code(client, code)
    assert response.status_code == 200
    assert ("That code has already been used. Wait for your authenticator app to show a new one"
            in response.content.decode())
    assert signed_in_user(client) is None
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.MFA_FAILED, user__username=TRENT,
                                     method="totp").count() == 1
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.SIGN_IN_FAILED).exists()
    assert failures() == 1


def test_guessing_codes_is_throttled_by_django_otp(client):
    """SECURITY.md 23: after a wrong code, even the right one waits out the back-off."""
    device = trents_device()
    sign_in_with_password(client, TRENT)
    response = enter_code(client, wrong_code_for(device))
    assert "That code is not right" in response.content.decode()

    response = enter_code(client, code_for(device))
    assert response.status_code == 200
    assert ("Your last code was wrong, and this one came too soon after it to be checked. Wait 1 "
            "second, then enter it again.") in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()
    assert failures() == 1  # a throttled try checks nothing, so it is not a failure either

    let_throttle_pass(device)
    assert enter_code(client, code_for(device))["Location"] == "/signin/stay/"


def test_throttling_is_on_for_codes_and_backup_codes():
    assert settings.OTP_TOTP_THROTTLE_FACTOR > 0
    assert settings.OTP_STATIC_THROTTLE_FACTOR > 0


def test_wrong_codes_count_towards_the_lockout(client):
    """SECURITY.md 23: guessing ends in the same lockout as wrong passwords, code or no code."""
    device = trents_device()
    sign_in_with_password(client, TRENT)
    for _ in range(settings.LOCKOUT_FAILURE_LIMIT - 1):
        response = enter_code(client, wrong_code_for(device))
        assert response.status_code == 200
        let_throttle_pass(device)
    response = enter_code(client, wrong_code_for(device))
    assert response.status_code == 429
    assert "Your sign-in is locked" in response.content.decode()
    assert failures() == settings.LOCKOUT_FAILURE_LIMIT
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.LOCKED_OUT, user__username=TRENT).exists()

    let_throttle_pass(device)
    response = enter_code(client, code_for(device))
    assert response.status_code == 429
    assert signed_in_user(client) is None
    assert TOTPDevice.objects.get(pk=device.pk).last_t == device.last_t  # the code was not even tried


def test_earlier_wrong_passwords_and_wrong_codes_add_up(client):
    for _ in range(settings.LOCKOUT_FAILURE_LIMIT - 1):
        sign_in_with_password(client, TRENT, password="not the password")
    assert sign_in_with_password(client, TRENT)["Location"] == "/signin/code/"
    response = enter_code(client, wrong_code_for(trents_device()))
    assert response.status_code == 429


def test_a_locked_out_user_cannot_use_a_code_from_a_flow_started_before(client):
    device = trents_device()
    sign_in_with_password(client, TRENT)
    LockoutFactory(key=TRENT)  # by an attacker elsewhere
    response = enter_code(client, code_for(device))
    assert response.status_code == 429
    assert "Your sign-in is locked" in response.content.decode()
    assert signed_in_user(client) is None
    assert TOTPDevice.objects.get(pk=device.pk).last_t == device.last_t


@pytest.mark.parametrize("path", ["/admin/", "/me/", "/me/mfa/", "/", "/signout/", "/signin/"])
def test_a_session_waiting_for_the_code_opens_nothing(client, path):
    """SECURITY.md 24: the password is done, the code is not: no page sees a signed-in user."""
    sign_in_with_password(client, TRENT)
    response = client.get(path)
    assert not response.wsgi_request.user.is_authenticated
    assert response.status_code in {200, 302, 404}
    if path == "/admin/":
        assert response["Location"].startswith("/admin/login/")
    if path == "/me/mfa/":
        assert response["Location"].startswith("/signin/?next=/me/mfa/")
    assert signed_in_user(client) is None


def test_a_staff_user_waiting_for_the_code_does_not_reach_the_connect_portal(client, demo):
    support = demo["support@mitel.example"]
    device = TOTPDevice.objects.create(user=support, name="Authenticator app")
    assert sign_in_with_password(client, support.username)["Location"] == "/signin/code/"
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    response = client.get("/admin/accounts/user/")
    assert response.status_code == 302
    assert enter_code(client, code_for(device))["Location"] == "/signin/stay/"


@pytest.mark.parametrize(("slug", "data"), [
    ("stay", {"stay": "yes"}),
    ("authenticate", {"password": "Mitel-demo-2026!"}),
    ("account", {"account": "100001"}),
    ("mfa-setup", {"code": "123456"}),
    ("expiry", {}),
])
def test_nothing_but_the_code_step_completes_trents_sign_in(client, slug, data):
    """SECURITY.md 14 (as far as this branch goes): once trent's password is proven, by the password
    step or anything else that marks the flow authenticated, every other step sends him to the code."""
    sign_in_with_password(client, TRENT)
    for response in (client.get(f"/signin/{slug}/"), post_step(client, slug, **data)):
        assert response.status_code == 302
        assert response["Location"] == "/signin/code/"
    assert signed_in_user(client) is None


def test_a_flow_authenticated_by_password_any_other_way_still_stops_at_the_code(demo, rf: RequestFactory):
    """What a password reset that authenticated the flow would leave: every step but the code done."""
    trent = demo[TRENT]
    request = rf.get("/")
    request.session = {}
    def flow(method):
        return SigninFlow(request, FlowState(username=TRENT, user_id=trent.pk, authenticated=True,
                                             method=method,
                                             done=["username", "password", "account_after", "stay"]))

    assert current_step(flow("password")).name == "code"
    # SSO: the identity provider asked for the second factor; nothing left, the flow finishes
    assert current_step(flow("azure_ad")) is None


def test_users_without_a_device_sign_in_with_the_password_alone(client):
    assert sign_in_with_password(client, ALICE)["Location"] == "/signin/stay/"


def test_after_an_mfa_reset_trent_signs_in_with_his_password_alone(client, demo):
    """Support's reset (services.mfa.reset_mfa) deletes the devices; here deleted directly."""
    totp.issue_backup_codes(demo[TRENT])
    TOTPDevice.objects.filter(user=demo[TRENT]).delete()
    StaticDevice.objects.filter(user=demo[TRENT]).delete()
    assert sign_in_with_password(client, TRENT)["Location"] == "/signin/stay/"
    stay_signed_in(client)
    assert signed_in_user(client).username == TRENT
    assert verified_device_id(client) is None


def test_after_an_mfa_reset_an_account_requiring_mfa_makes_trent_enrol_again(client, demo):
    MitelAccount.objects.filter(account_number="100001").update(require_mfa=True)
    TOTPDevice.objects.filter(user=demo[TRENT]).delete()
    assert sign_in_with_password(client, TRENT)["Location"] == "/signin/mfa-setup/"


def test_a_user_left_with_only_backup_codes_is_still_asked_for_a_code(client, demo):
    codes = totp.issue_backup_codes(demo[TRENT])
    TOTPDevice.objects.filter(user=demo[TRENT]).delete()
    assert sign_in_with_password(client, TRENT)["Location"] == "/signin/code/"
    assert enter_code(client, codes[3])["Location"] == "/signin/stay/"


def test_a_code_from_minutes_away_says_the_clock_is_wrong_and_counts_as_wrong(client):
    device = trents_device()
    sign_in_with_password(client, TRENT)
    now = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).t()
    five_minutes_ahead = f"{hotp(device.bin_key, now + 10, device.digits):06d}"
    response = enter_code(client, five_minutes_ahead)
    assert response.status_code == 200
    assert "That code is not for the current time. Check that the clock" in response.content.decode()
    assert signed_in_user(client) is None
    assert failures() == 1


def test_after_several_wrong_codes_the_wait_says_how_many_and_how_long(client):
    device = trents_device()
    sign_in_with_password(client, TRENT)
    enter_code(client, wrong_code_for(device))
    let_throttle_pass(device)
    enter_code(client, wrong_code_for(device))
    response = enter_code(client, code_for(device))
    assert "2 wrong codes in a row: each one makes the next wait longer. Wait 2 seconds" \
        in response.content.decode()


def test_the_code_box_brings_up_a_number_pad_and_a_backup_code_a_keyboard(client):
    sign_in_with_password(client, TRENT)
    page = client.get("/signin/code/").content.decode()
    assert 'inputmode="numeric"' in page and 'href="?backup=1"' in page
    page = client.get("/signin/code/?backup=1").content.decode()
    assert 'inputmode="text"' in page and "Backup code" in page
    assert 'name="kind" value="backup"' in page
