"""Support powers are bounded (SECURITY.md 52): support staff cannot reset the MFA of, send resets to,
or unlock staff, superusers or themselves; only a superuser can, and it is audited."""

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AuditEvent, LockoutCounter, User
from accounts.services import lockouts, mfa
from accounts.services.lockouts import lockout_of
from tests.factories import UserFactory
from tests.portal.conftest import lock_out, open_portal_as, text_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(demo):
    other = UserFactory(username="sue@mitel.example", is_staff=True)
    other.groups.add(Group.objects.get(name="Support staff"))
    people = {"support": demo["support@mitel.example"], "superuser": demo["admin@mitel.example"],
              "other support": other, "trent": demo["trent@acme.example"]}
    for user in people.values():
        TOTPDevice.objects.get_or_create(user=user, name="phone", defaults={"confirmed": True})
        lock_out(user)
    return people


def act_as(client, user):
    """The portal as ``user`` sees it after signing in with their authenticator app."""
    return open_portal_as(client, user, otp_device=TOTPDevice.objects.get(user=user, name="phone"))


def reset_mfa(client, user):
    return client.post(f"/admin/accounts/user/{user.pk}/change/", {
        "CHANGE_FORM-action": "reset_mfa", "_selected_action": user.pk, "confirm": "yes"}, follow=True)


def unlock(client, user):
    return client.post("/admin/accounts/user/", {
        "action": "unlock_users", "index": "0", "_selected_action": [user.pk]}, follow=True)


def send_reset(client, user):
    return client.post("/admin/accounts/user/", {
        "action": "send_password_resets", "index": "0", "_selected_action": [user.pk]}, follow=True)


BOUNDED = ["superuser", "other support", "support"]  # "support" is the one acting: themselves


@pytest.mark.parametrize("who", BOUNDED)
def test_support_cannot_reset_the_mfa_of_staff_superusers_or_themselves(client, people, who,
                                                                       django_capture_on_commit_callbacks):
    act_as(client, people["support"])
    with django_capture_on_commit_callbacks(execute=True):
        response = reset_mfa(client, people[who])
    assert TOTPDevice.objects.filter(user=people[who]).exists()
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.MFA_RESET).exists()
    assert "only a superuser can" in text_of(response)


@pytest.mark.parametrize("who", BOUNDED)
def test_support_cannot_unlock_staff_superusers_or_themselves(client, people, who):
    act_as(client, people["support"])
    lock_out(people[who])  # again: signing in cleared the support member's own failures
    response = unlock(client, people[who])
    assert lockout_of(people[who]).locked
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.UNLOCKED).exists()
    assert "Unlocked" not in text_of(response)


@pytest.mark.parametrize("who", BOUNDED)
def test_support_cannot_send_resets_to_staff_superusers_or_themselves(client, people, who, mailoutbox,
                                                                     django_capture_on_commit_callbacks):
    act_as(client, people["support"])
    with django_capture_on_commit_callbacks(execute=True):
        send_reset(client, people[who])
    assert mailoutbox == []
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.PASSWORD_RESET_REQUESTED).exists()


def test_support_still_helps_customers(client, people, mailoutbox, django_capture_on_commit_callbacks):
    trent = people["trent"]
    act_as(client, people["support"])
    with django_capture_on_commit_callbacks(execute=True):
        reset_mfa(client, trent)
        unlock(client, trent)
        send_reset(client, trent)
    assert not TOTPDevice.objects.filter(user=trent).exists()
    assert lockout_of(trent) is None
    assert [mail.to for mail in mailoutbox] == [[trent.email], [trent.email]]


def test_the_change_page_offers_support_no_buttons_for_a_superuser(client, people):
    act_as(client, people["support"])
    page = text_of(client.get(f"/admin/accounts/user/{people['superuser'].pk}/change/"))
    assert "Locked out" in page
    assert "Unlock admin@mitel.example" not in page and "Reset MFA…" not in page


@pytest.mark.parametrize("who", ["other support", "support", "superuser"])
def test_a_superuser_can_and_it_is_audited(client, people, who, django_capture_on_commit_callbacks):
    superuser = people["superuser"]
    act_as(client, superuser)
    lock_out(people[who])  # again: signing in cleared the superuser's own failures
    with django_capture_on_commit_callbacks(execute=True):
        unlock(client, people[who])
        reset_mfa(client, people[who])  # last: resetting their own MFA ends the superuser's 2FA session
    assert not TOTPDevice.objects.filter(user=people[who]).exists()
    assert not LockoutCounter.objects.filter(username=people[who].username).exists()
    for kind in (AuditEvent.Kind.MFA_RESET, AuditEvent.Kind.UNLOCKED):
        event = AuditEvent.objects.get(kind=kind)
        assert (event.user, event.actor) == (people[who], superuser)


@pytest.mark.parametrize("who", BOUNDED)
def test_the_services_refuse_too(people, who):
    support, user = people["support"], people[who]
    with pytest.raises(PermissionDenied):
        mfa.reset_mfa(user, acting_user=support)
    with pytest.raises(PermissionDenied):
        lockouts.unlock_user(user, acting_user=support)
    from django.test import RequestFactory

    from accounts.services.passwords import send_password_reset

    with pytest.raises(PermissionDenied):
        send_password_reset(user, request=RequestFactory().get("/"), acting_user=support)
    assert TOTPDevice.objects.filter(user=user).exists() and lockout_of(user).locked
    assert User.objects.get(pk=user.pk).is_active
