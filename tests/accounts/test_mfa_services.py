"""The MFA domain operations (accounts/services/totp.py) on their own."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AuditEvent
from accounts.services import totp
from tests.accounts.mfa_helpers import ALICE, TRENT, code_for
from tests.factories import TOTPDeviceFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice():
    return UserFactory(username=ALICE)


@pytest.fixture
def trent():
    """A user with a confirmed authenticator app."""
    return TOTPDeviceFactory(user__username=TRENT).user


def test_backup_codes_are_stored_only_as_keyed_hashes(trent):
    codes = totp.issue_backup_codes(trent)
    stored = set(StaticToken.objects.filter(device__user=trent).values_list("token", flat=True))
    assert len(codes) == len(stored) == 10
    assert stored.isdisjoint({*codes, *(code.replace("-", "") for code in codes)})


def test_an_enrolment_is_only_confirmed_within_its_time(alice):
    enrolment = totp.start_enrolment(alice)
    later = timezone.now() + totp.ENROLMENT_MAX_AGE + timedelta(seconds=1)
    assert totp.pending_enrolment(alice, enrolment.device.pk) == enrolment
    assert totp.pending_enrolment(alice, enrolment.device.pk, now=later) is None
    with pytest.raises(totp.EnrolmentExpired):
        totp.confirm_enrolment(alice, enrolment.device.pk, code_for(enrolment.device), now=later)


def test_an_enrolment_cannot_replace_a_device_added_since_unless_it_was_a_replacement(alice):
    enrolment = totp.start_enrolment(alice)
    TOTPDevice.objects.create(user=alice, name="Added elsewhere", confirmed=True)
    with pytest.raises(totp.EnrolmentExpired):
        totp.confirm_enrolment(alice, enrolment.device.pk, code_for(enrolment.device))
    device, codes = totp.confirm_enrolment(alice, enrolment.device.pk, code_for(enrolment.device),
                                           replace=True)
    assert list(TOTPDevice.objects.filter(user=alice)) == [device]


def test_the_secret_as_text_is_the_key_of_the_qr_code(alice):
    enrolment = totp.start_enrolment(alice)
    assert f"secret={enrolment.secret.replace(' ', '')}" in enrolment.config_url
    assert enrolment.config_url.startswith("otpauth://totp/Mitel%3Aalice%40acme.example?")
    assert "issuer=Mitel" in enrolment.config_url


@pytest.mark.parametrize(("typed", "accepted"), [
    ("{code}", True),
    (" {code} ", True),
    ("{spaced}", True),
    ("{full_width}", True),
    ("{code}0", False),
    ("{short}", False),
    ("", False),
])
def test_which_ways_of_typing_a_code_are_accepted(trent, typed, accepted):
    device = TOTPDevice.objects.get(user=trent)
    code = code_for(device)
    text = typed.format(code=code, short=code[:5], spaced=f"{code[:3]} {code[3:]}",
                        full_width="".join(chr(ord(digit) + 0xFEE0) for digit in code))
    if accepted:
        assert totp.verify_code(trent, text) == device
    else:
        with pytest.raises(totp.MfaError):
            totp.verify_code(trent, text)


def test_a_refused_code_is_audited_and_a_throttled_one_is_not(trent):
    device = TOTPDevice.objects.get(user=trent)
    wrong = f"{(int(code_for(device)) + 1) % 10**6:06d}"
    with pytest.raises(totp.CodeRefused):
        totp.verify_code(trent, wrong)
    with pytest.raises(totp.Throttled):
        totp.verify_code(trent, code_for(device))
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.MFA_FAILED, user=trent).count() == 1


def test_removing_devices_removes_the_authenticator_and_the_backup_codes(trent):
    totp.issue_backup_codes(trent)
    assert totp.remove_devices(trent, acting_user=trent) == 2
    assert not totp.has_device(trent)
    assert totp.backup_codes_left(trent) == 0
    assert AuditEvent.objects.get(kind=AuditEvent.Kind.MFA_REMOVED, user=trent).detail == {"devices": 2}
