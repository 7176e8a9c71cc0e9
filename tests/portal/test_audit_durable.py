"""An audit trail that never loses who did what (SECURITY.md 53).

Every event about a person is written in each account they belong to at that moment, so each
account's contacts read it; actors and subjects are named by value and outlive their deletion;
deletions are audited; django-otp's own admin, which shows TOTP secrets and adds devices for
anyone, is not part of the Connect Portal.
"""

import pytest
from django.contrib import admin
from django.test import Client, RequestFactory
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AuditEvent, Membership, MitelAccount, User
from accounts.services import memberships, passwords, totp
from tests.accounts.mfa_helpers import code_for
from tests.factories import MembershipFactory
from tests.portal.conftest import text_of
from tests.signin import open_portal_as, sign_in

pytestmark = pytest.mark.django_db
ALICE, BOB, GRACE = "alice@acme.example", "bob@multi.example", "grace@acme.example"
NEW_PASSWORD = "a long new passphrase nobody guesses"


def request_for(user=None):
    request = RequestFactory().post("/", REMOTE_ADDR="198.51.100.7")
    if user is not None:
        request.user = user
    return request


def sign_out(user):
    client = Client()
    sign_in(client, user.username)
    client.post("/signout/")


def enrol(user):
    enrolment = totp.start_enrolment(user)
    totp.confirm_enrolment(user, enrolment.device.pk, code_for(enrolment.device))


CHANGES = {
    AuditEvent.Kind.PASSWORD_CHANGED: lambda user: passwords.change_password(user, NEW_PASSWORD),
    AuditEvent.Kind.PASSWORD_RESET: lambda user: passwords.complete_password_reset(user, NEW_PASSWORD),
    AuditEvent.Kind.PASSWORD_RESET_REQUESTED: lambda user: passwords.send_requested_password_reset(
        user.username, ip_address="192.0.2.1"),
    AuditEvent.Kind.SIGN_OUT: sign_out,
    AuditEvent.Kind.MFA_ENROLLED: enrol,
    AuditEvent.Kind.MFA_REMOVED: lambda user: (enrol(user), totp.remove_devices(user, acting_user=user)),
}


@pytest.mark.parametrize("kind", list(CHANGES))
def test_a_persons_own_changes_are_in_their_accounts_trail(demo, kind):
    CHANGES[kind](demo[ALICE])
    events = AuditEvent.objects.filter(kind=kind, user=demo[ALICE])
    assert [event.account.account_number for event in events] == ["100001"]


@pytest.mark.parametrize("kind", list(CHANGES))
def test_a_person_in_two_accounts_has_the_event_in_both_trails(demo, kind):
    bob = demo[BOB]
    if kind == AuditEvent.Kind.SIGN_OUT:
        client = open_portal_as(Client(), bob)
        client.post("/signout/")
    else:
        CHANGES[kind](bob)
    events = AuditEvent.objects.filter(kind=kind, user=bob)
    assert sorted(event.account.account_number for event in events) == ["100001", "100002"]


def test_each_accounts_contacts_read_the_event_in_their_portal(client, demo):
    second = MitelAccount.objects.get(account_number="100002")
    contact = MembershipFactory(account=second, decision_maker=True).user
    passwords.change_password(demo[BOB], NEW_PASSWORD)
    open_portal_as(client, contact)
    listed = client.get("/admin/accounts/auditevent/", {"account": "100002"}).context["cl"].result_list
    assert [(e.kind, e.username) for e in listed if e.user_id == demo[BOB].pk] == [
        (AuditEvent.Kind.PASSWORD_CHANGED, BOB)]
    open_portal_as(client, demo[GRACE])  # a Decision Maker of 100001 reads it there too
    listed = client.get("/admin/accounts/auditevent/", {"account": "100001"}).context["cl"].result_list
    assert AuditEvent.Kind.PASSWORD_CHANGED in [e.kind for e in listed if e.user_id == demo[BOB].pk]


def test_a_deleted_actor_is_still_named_on_what_they_did(client, demo):
    membership = Membership.objects.get(user=demo[ALICE])
    memberships.change_roles(membership, frozenset({"technical_contact"}), acting_user=demo[GRACE])
    admin_user = demo["admin@mitel.example"]
    open_portal_as(client, admin_user)
    grace = demo[GRACE]
    response = client.post(f"/admin/accounts/user/{grace.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302 and not User.objects.filter(pk=grace.pk).exists()
    changed = AuditEvent.objects.get(kind=AuditEvent.Kind.ROLES_CHANGED)
    assert (changed.actor, changed.actor_username) == (None, GRACE)
    page = text_of(client.get("/admin/accounts/auditevent/", {"kind": AuditEvent.Kind.ROLES_CHANGED}))
    assert GRACE in page
    deleted = AuditEvent.objects.get(kind=AuditEvent.Kind.USER_DELETED)
    assert (deleted.username, deleted.actor, deleted.actor_username, deleted.account.account_number) == (
        GRACE, admin_user, "admin@mitel.example", "100001")


def test_a_user_deleted_outside_the_portal_is_audited_too(demo):
    demo["carol@acme.example"].delete()
    deleted = AuditEvent.objects.get(kind=AuditEvent.Kind.USER_DELETED)
    assert (deleted.username, deleted.actor_username, deleted.account.account_number) == (
        "carol@acme.example", "", "100001")
    assert deleted.detail["via"] == "other"


@pytest.mark.parametrize("path", ["/admin/otp_totp/totpdevice/", "/admin/otp_totp/totpdevice/add/",
                                  "/admin/otp_static/staticdevice/",
                                  "/admin/otp_static/staticdevice/add/"])
def test_no_portal_page_shows_a_totp_secret_or_adds_a_device(client, demo, path):
    open_portal_as(client, demo["admin@mitel.example"])
    device = TOTPDevice.objects.get(user=demo["trent@acme.example"])
    assert client.get(path).status_code == 404
    assert client.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/").status_code == 404
    assert not admin.site.is_registered(TOTPDevice) and not admin.site.is_registered(StaticDevice)
    assert "TOTP" not in text_of(client.get("/admin/"))
