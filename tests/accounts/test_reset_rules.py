"""What a completed password reset may change, and who a reset link or reset e-mail may reach."""

import re

import pytest
from django.conf import settings
from django.test import Client, RequestFactory

from accounts.models import AuditEvent, LockoutCounter, User
from accounts.services.passwords import reset_link_path, send_password_reset
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LIMIT = settings.LOCKOUT_FAILURE_LIMIT
NEW_PASSWORD = "purple otters sang at noon"
RESET_PATH = re.compile(r"http://testserver(/password/reset/[^/\s]+/[^/\s]+/)")


def lock_out(username: str = "", ip_address: str | None = None) -> None:
    """LIMIT wrong passwords for ``username`` from ``ip_address`` (no username: one per name guessed)."""
    from accounts.services.lockouts import begin

    request = RequestFactory().post("/signin/authenticate/", REMOTE_ADDR=ip_address or "192.0.2.1")
    for n in range(LIMIT):
        begin(request, username or f"guess{n}@example.com").failed()


def counted() -> set[tuple[str, str, int]]:
    return set(LockoutCounter.objects.filter(scope__in=["username", "address"]).exclude(
        key__startswith="guess").values_list("scope", "key", "failures"))


def reset_through_link(link: str, password: str = NEW_PASSWORD):
    client = Client()
    opened = client.get(link)
    assert opened.status_code == 302, opened.content.decode()[:500]
    return client.post(opened["Location"], {"new_password1": password, "new_password2": password})


def shows_invalid_link(response) -> bool:
    return response.status_code == 200 and "This link can't be used" in response.content.decode()


def test_a_completed_reset_clears_only_that_users_lockout():
    pat, sam = UserFactory(), UserFactory()
    lock_out(pat.username, "198.51.100.1")
    lock_out(sam.username, "198.51.100.2")
    lock_out("", "203.0.113.66")  # an address that guessed at many usernames
    response = reset_through_link(reset_link_path(pat))
    assert response.status_code == 302
    assert counted() == {("username", sam.username, LIMIT), ("address", "198.51.100.1", LIMIT),
                         ("address", "198.51.100.2", LIMIT), ("address", "203.0.113.66", LIMIT)}
    unlocked = AuditEvent.objects.get(kind=AuditEvent.Kind.UNLOCKED)
    assert (unlocked.user, unlocked.actor, unlocked.detail) == (pat, pat, {"via": "password_reset"})


def test_a_reset_of_a_user_who_was_not_locked_out_unlocks_nobody():
    pat, sam = UserFactory(), UserFactory()
    lock_out(sam.username, "198.51.100.2")
    assert reset_through_link(reset_link_path(pat)).status_code == 302
    assert LockoutCounter.objects.filter(scope="username", key=sam.username, failures=LIMIT).exists()
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.UNLOCKED).exists()
    assert User.objects.get(pk=pat.pk).check_password(NEW_PASSWORD)


def test_a_link_sent_before_deactivation_does_not_work_after_it():
    pat = UserFactory()
    link = reset_link_path(pat)
    User.objects.filter(pk=pat.pk).update(is_active=False)
    assert shows_invalid_link(Client().get(link))
    assert User.objects.get(pk=pat.pk).check_password("correct horse battery staple")
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.PASSWORD_RESET).exists()


def test_a_link_opened_before_deactivation_cannot_set_the_password_after_it():
    pat = UserFactory()
    client = Client()
    opened = client.get(reset_link_path(pat))
    User.objects.filter(pk=pat.pk).update(is_active=False)
    response = client.post(opened["Location"], {"new_password1": NEW_PASSWORD,
                                                "new_password2": NEW_PASSWORD})
    assert shows_invalid_link(response)
    assert User.objects.get(pk=pat.pk).check_password("correct horse battery staple")


def test_the_connect_portal_sends_no_reset_mail_to_a_deactivated_user(mailoutbox):
    pat = UserFactory(is_active=False)
    assert send_password_reset(pat, request=RequestFactory().post("/admin/")) == 0
    assert mailoutbox == []
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.PASSWORD_RESET_REQUESTED)
    assert (event.user, event.username, event.detail) == (None, pat.username, {"matched": False})


def test_the_forgot_page_sends_no_reset_mail_to_a_deactivated_user(client, mailoutbox):
    pat = UserFactory(is_active=False)
    response = client.post("/password/forgot/", {"login": pat.username})
    assert response.status_code in (200, 302)
    assert mailoutbox == []
    assert AuditEvent.objects.get(kind=AuditEvent.Kind.PASSWORD_RESET_REQUESTED).detail["matched"] is False


def test_the_connect_portal_sends_an_active_user_a_working_link(mailoutbox):
    pat = UserFactory()
    assert send_password_reset(pat, request=RequestFactory().post("/admin/")) == 1
    [mail] = mailoutbox
    assert mail.to == [pat.email]
    assert reset_through_link(RESET_PATH.search(mail.body).group(1)).status_code == 302
    assert User.objects.get(pk=pat.pk).check_password(NEW_PASSWORD)


@pytest.mark.parametrize("since", ["deactivated", "chose a password"])
def test_no_set_password_mail_reaches_a_member_changed_since_sso_was_turned_off(mailoutbox, since):
    """The mails leave in a task, after the request chose whom to mail: a member deactivated or with a
    password of their own by then gets none, and none is recorded."""
    from sso.tasks import send_set_password_mails
    from tests.factories import MembershipFactory

    member = MembershipFactory().user
    member.set_unusable_password()
    if since == "deactivated":
        member.is_active = False
    else:
        member.set_password(NEW_PASSWORD)
    member.save()
    assert send_set_password_mails.call(member.memberships.get().account_id, [member.pk], None) == 0
    assert mailoutbox == []
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.PASSWORD_RESET_REQUESTED).exists()


def test_a_member_left_without_a_password_is_mailed_a_link_to_set_one(mailoutbox):
    from sso.tasks import send_set_password_mails
    from tests.factories import MembershipFactory

    member = MembershipFactory().user
    member.set_unusable_password()
    member.save()
    assert send_set_password_mails.call(member.memberships.get().account_id, [member.pk], None) == 1
    [mail] = mailoutbox
    assert mail.to == [member.email]
    assert reset_through_link(RESET_PATH.search(mail.body).group(1)).status_code == 302
    assert User.objects.get(pk=member.pk).check_password(NEW_PASSWORD)
