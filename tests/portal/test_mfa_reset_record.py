"""What support's MFA reset removes and what the audit trail says of it (accounts.services.mfa)."""

import pytest
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AuditEvent
from tests.portal.conftest import open_portal_as

pytestmark = pytest.mark.django_db


def test_a_reset_removes_a_half_set_up_authenticator_too_and_records_what_went_where(client, demo):
    """A phone whose set-up was started but not confirmed goes with the rest: after the reset no
    device of the user is left, and the audit trail names every device kind, the user's account and
    the address support acted from. The user's sessions end, recorded as support's doing."""
    trent, support = demo["trent@acme.example"], demo["support@mitel.example"]
    StaticDevice.objects.create(user=trent, name="backup codes", confirmed=True)
    TOTPDevice.objects.create(user=trent, name="new phone", confirmed=False)
    trents_laptop = Client()
    trents_laptop.force_login(trent)
    open_portal_as(client, support)
    response = client.post(f"/admin/accounts/user/{trent.pk}/change/", {
        "CHANGE_FORM-action": "reset_mfa", "_selected_action": trent.pk, "confirm": "yes"},
        REMOTE_ADDR="198.51.100.20")
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=trent).exists()
    assert not StaticDevice.objects.filter(user=trent).exists()
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.MFA_RESET)
    assert event.detail == {"devices": 3, "kinds": ["StaticDevice", "TOTPDevice"]}
    assert event.account == trent.memberships.get().account
    assert (event.user, event.actor, event.ip_address) == (trent, support, "198.51.100.20")
    ended = AuditEvent.objects.get(kind=AuditEvent.Kind.SESSIONS_ENDED)
    assert (ended.user, ended.actor, ended.ip_address) == (trent, support, "198.51.100.20")
    assert ended.detail == {"reason": "mfa_reset", "sessions_ended": 1}
    assert "_auth_user_id" not in trents_laptop.session
