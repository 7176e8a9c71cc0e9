"""Every change to a person's second factor is e-mailed to them (SECURITY.md 51).

Password changes and resets, and support's MFA reset, have their own e-mails, tested in
test_password_change.py, test_password_forgot.py and test_support.py.
"""

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AuditEvent
from accounts.services import totp
from tests.accounts.mfa_helpers import ALICE, TRENT, code_for

pytestmark = pytest.mark.usefixtures("demo")


def enrol(user, *, replace: bool = False) -> None:
    enrolment = totp.start_enrolment(user)
    totp.confirm_enrolment(user, enrolment.device.pk, code_for(enrolment.device), replace=replace)


def only_mail(mailoutbox, user):
    assert len(mailoutbox) == 1, [m.subject for m in mailoutbox]
    message = mailoutbox[0]
    assert message.to == [user.email]
    assert user.username in message.body and "reset your password now" in message.body
    return message


def test_setting_up_mfa_is_emailed(demo, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        enrol(demo[ALICE])
    message = only_mail(mailoutbox, demo[ALICE])
    assert message.subject == "Your Mitel sign-in: two-step verification was set up"


def test_replacing_the_authenticator_is_emailed(demo, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        enrol(demo[TRENT], replace=True)
    message = only_mail(mailoutbox, demo[TRENT])
    assert message.subject == "Your Mitel sign-in: your authenticator app was replaced"


def test_new_backup_codes_are_emailed(demo, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        totp.issue_backup_codes(demo[TRENT])
    message = only_mail(mailoutbox, demo[TRENT])
    assert message.subject == "Your Mitel sign-in: new backup codes were issued"


def test_removing_mfa_is_emailed(demo, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        totp.remove_devices(demo[TRENT], acting_user=demo[TRENT])
    message = only_mail(mailoutbox, demo[TRENT])
    assert message.subject == "Your Mitel sign-in: two-step verification was turned off"
    assert "password alone" in message.alternatives[0][0]


def test_a_refused_code_changes_nothing_and_sends_nothing(demo, mailoutbox,
                                                         django_capture_on_commit_callbacks):
    enrolment = totp.start_enrolment(demo[ALICE])
    wrong = f"{(int(code_for(enrolment.device)) + 1) % 10**6:06d}"
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(totp.CodeRefused):
        totp.confirm_enrolment(demo[ALICE], enrolment.device.pk, wrong)
    assert mailoutbox == []
    assert not TOTPDevice.objects.filter(user=demo[ALICE], confirmed=True).exists()
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.MFA_ENROLLED).exists()
