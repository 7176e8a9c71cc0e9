"""Two-step verification on Personal Information (/me/mfa/): set up, replace, remove, backup codes.

SECURITY.md 25: removing or replacing a device needs the password again.
"""

import re
from urllib.parse import unquote

import pytest
from django.conf import settings
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.management.commands.seed_demo import DEMO_PASSWORD
from accounts.models import AuditEvent, LockoutCounter, MitelAccount
from accounts.services import totp
from tests.accounts.mfa_helpers import (
    ALICE,
    TRENT,
    code_for,
    trents_device,
    verified_device_id,
    wrong_code_for,
)
from tests.signin import open_portal_as

pytestmark = pytest.mark.usefixtures("demo")


@pytest.fixture
def trent(client, demo):
    """trent, signed in and verified with his authenticator, as the sign-in flow leaves him."""
    totp.issue_backup_codes(demo[TRENT])
    open_portal_as(client, demo[TRENT], otp_device=trents_device())
    return demo[TRENT]


@pytest.fixture
def alice(client, demo):
    open_portal_as(client, demo[ALICE])
    return demo[ALICE]


def shown_codes(response) -> list[str]:
    return re.findall(r"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>", response.content.decode())


def devices_of(user) -> int:
    return TOTPDevice.objects.filter(user=user).count() + StaticDevice.objects.filter(user=user).count()


@pytest.mark.parametrize("path", ["/me/mfa/", "/me/mfa/setup/", "/me/mfa/setup/confirm/",
                                  "/me/mfa/remove/", "/me/mfa/backup-codes/"])
def test_the_mfa_pages_need_a_signed_in_user(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/signin/?next={path}"


def test_alice_sets_up_an_authenticator_with_her_password_and_a_first_code(client, alice):
    page = client.get("/me/mfa/")
    assert "<strong>Off.</strong>" in page.content.decode()
    assert "Enter your current password." in client.post("/me/mfa/setup/").content.decode()
    assert not TOTPDevice.objects.filter(user=alice).exists()

    response = client.post("/me/mfa/setup/", {"password": DEMO_PASSWORD})
    assert response["Location"] == "/me/mfa/setup/confirm/"
    page = client.get("/me/mfa/setup/confirm/").content.decode()
    device = TOTPDevice.objects.get(user=alice, confirmed=False)
    qr_uri = re.search(r'<img class="qr-code" src="([^"]+)"', page).group(1)
    assert qr_uri.startswith("data:image/svg+xml")
    svg = unquote(qr_uri)
    assert "style=" not in svg and "<script" not in svg  # nothing the page's CSP would refuse

    response = client.post("/me/mfa/setup/confirm/", {"code": wrong_code_for(device)})
    assert "That code is not right" in response.content.decode()
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0,
                                                   throttling_failure_timestamp=None)
    response = client.post("/me/mfa/setup/confirm/", {"code": code_for(device)})
    assert response.status_code == 200
    assert len(shown_codes(response)) == 10
    assert TOTPDevice.objects.get(pk=device.pk).confirmed
    assert verified_device_id(client) == device.persistent_id  # the session is verified with it
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.MFA_ENROLLED, user=alice,
                                     method="totp").count() == 1


def test_backup_codes_are_shown_once_then_only_counted(client, trent):
    assert "Enter your current password." in client.post("/me/mfa/backup-codes/").content.decode()
    response = client.post("/me/mfa/backup-codes/", {"password": DEMO_PASSWORD})
    codes = shown_codes(response)
    assert len(codes) == 10
    page = client.get("/me/mfa/").content.decode()
    assert "10 unused" in page
    assert not any(code in page for code in codes)
    # The old codes stopped working when the new ones were issued.
    assert totp.backup_codes_left(trent) == 10


def test_removing_the_authenticator_needs_the_password(client, trent):
    """SECURITY.md 25."""
    response = client.post("/me/mfa/remove/", {})
    assert "Enter your current password." in response.content.decode()
    response = client.post("/me/mfa/remove/", {"password": "not the password"})
    assert response.status_code == 200
    assert "That password is not right." in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()
    assert devices_of(trent) == 2
    assert LockoutCounter.objects.get(scope="username", key=TRENT).failures == 1

    response = client.post("/me/mfa/remove/", {"password": DEMO_PASSWORD})
    assert response["Location"] == "/me/mfa/"
    assert devices_of(trent) == 0
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.MFA_REMOVED, user=trent, actor=trent).exists()
    assert "<strong>Off.</strong>" in client.get("/me/mfa/").content.decode()


def test_replacing_the_authenticator_needs_the_password_and_the_old_one_works_until_the_new_does(
        client, trent):
    """SECURITY.md 25."""
    old = trents_device()
    response = client.post("/me/mfa/setup/", {"password": "not the password"})
    assert "That password is not right." in response.content.decode()
    assert not TOTPDevice.objects.filter(user=trent, confirmed=False).exists()
    assert client.get("/me/mfa/setup/confirm/")["Location"] == "/me/mfa/setup/"

    assert client.post("/me/mfa/setup/", {"password": DEMO_PASSWORD})["Location"] == (
        "/me/mfa/setup/confirm/")
    assert "Replace your authenticator app" in client.get("/me/mfa/setup/confirm/").content.decode()
    new = TOTPDevice.objects.get(user=trent, confirmed=False)
    assert TOTPDevice.objects.get(pk=old.pk).confirmed  # still trent's second factor meanwhile

    response = client.post("/me/mfa/setup/confirm/", {"code": code_for(new)})
    assert len(shown_codes(response)) == 10
    assert list(TOTPDevice.objects.filter(user=trent)) == [new]
    assert verified_device_id(client) == new.persistent_id
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.MFA_ENROLLED, user=trent, method="totp")
    assert event.detail["replaced"] is True


def test_wrong_passwords_on_the_mfa_pages_lead_to_the_lockout(client, trent):
    for _ in range(settings.LOCKOUT_FAILURE_LIMIT - 1):
        client.post("/me/mfa/remove/", {"password": "not the password"})
    response = client.post("/me/mfa/remove/", {"password": "not the password"})
    assert response.status_code == 429
    response = client.post("/me/mfa/remove/", {"password": DEMO_PASSWORD})
    assert response.status_code == 429
    assert devices_of(trent) == 2


def test_a_session_not_verified_with_the_device_cannot_change_it(client, demo):
    """A session that never entered a code (say, signed in before the device was added elsewhere)."""
    open_portal_as(client, demo[TRENT])
    for path in ("/me/mfa/remove/", "/me/mfa/setup/", "/me/mfa/backup-codes/"):
        response = client.post(path, {"password": DEMO_PASSWORD})
        assert response["Location"] == "/me/mfa/"
    assert TOTPDevice.objects.filter(user=demo[TRENT]).count() == 1
    assert "was not verified with your authenticator app" in client.get("/me/mfa/").content.decode()


def test_users_cannot_remove_mfa_their_account_requires_but_can_replace_it(client, trent):
    MitelAccount.objects.filter(account_number="100001").update(require_mfa=True)
    page = client.get("/me/mfa/").content.decode()
    assert "Turn off two-step verification" not in page
    assert "Replace authenticator app" in page
    response = client.post("/me/mfa/remove/", {"password": DEMO_PASSWORD}, follow=True)
    assert "you can replace your authenticator app, but not remove it" in response.content.decode()
    assert devices_of(trent) == 2


def test_sso_only_users_are_pointed_to_their_identity_provider(client, demo):
    open_portal_as(client, demo["frank@initech.example"])
    response = client.post("/me/mfa/setup/", {"password": "anything"}, follow=True)
    assert "identity provider asks for your second factor" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=demo["frank@initech.example"]).exists()
