"""A contact creates one user (who chooses their own password from an e-mailed link), resends that
link, and deactivates users: within their own accounts only, audited."""

import re

import pytest
from django.utils import timezone

from accounts.models import AuditEvent, Invitation, UserSession
from tests.factories import MembershipFactory, UserFactory
from tests.portal.conftest import open_portal_as, text_of
from tests.portal.forms import admin_form_data

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://[^/\s]+(/me/invitations/[\w-]+/)")
NEW_PASSWORD = "a long new passphrase 2026"


def add_user(client, account, **fields):
    page = client.get("/admin/accounts/user/add/")
    return client.post("/admin/accounts/user/add/", admin_form_data(
        page, **fields, **{"memberships-0-account": str(account.pk)}), follow=True)


def link_in(mail) -> str:
    return LINK.search(mail.body).group(1)


def action(client, name: str, *users):
    return client.post("/admin/accounts/user/", {"action": name,
                                                 "_selected_action": [u.pk for u in users]}, follow=True)


def choose_password(browser, link: str, password: str = NEW_PASSWORD):
    """Open the e-mailed link (not signed in) and choose a password."""
    page = browser.get(link)
    assert page.status_code == 302
    return browser.post(page["Location"], {"new_password1": password, "new_password2": password})


def test_a_new_user_chooses_their_password_from_the_link_and_then_signs_in(
    client, two_accounts, mailoutbox, django_capture_on_commit_callbacks, django_user_model
):
    t = two_accounts
    open_portal_as(client, t.ann)
    with django_capture_on_commit_callbacks(execute=True):
        response = add_user(client, t.a, username="nora@alpha.example", email="nora@alpha.example",
                            first_name="Nora")
    assert "Sent nora@alpha.example an e-mail with a link to choose their password" in text_of(response)
    nora = django_user_model.objects.get(username="nora@alpha.example")
    assert not nora.has_usable_password()
    [mail] = mailoutbox
    assert mail.to == ["nora@alpha.example"] and "Choose your password" in mail.body

    from django.test import Client

    nora_browser = Client()
    done = choose_password(nora_browser, link_in(mail))
    assert done.status_code == 302 and done["Location"] == "/signin/?login_hint=nora%40alpha.example"
    nora.refresh_from_db()
    assert nora.check_password(NEW_PASSWORD)
    assert Invitation.objects.get(user=nora).status() == Invitation.Status.ACCEPTED
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.INVITATION_ACCEPTED, user=nora, actor=nora).exists()
    # Used once: the same link now opens nothing.
    again = Client().get(link_in(mail), follow=True)
    assert "This link can't be used" in text_of(again)


def test_the_contact_must_give_an_email_address_and_never_types_a_password(client, two_accounts):
    t = two_accounts
    open_portal_as(client, t.ann)
    page = client.get("/admin/accounts/user/add/")
    assert "password" not in page.context["adminform"].form.fields
    response = add_user(client, t.a, username="nomail@alpha.example")
    assert response.context["adminform"].form.errors["email"] == ["This field is required."]


def test_resending_sends_a_new_link_and_the_old_one_stops_working(
    client, two_accounts, mailoutbox, django_capture_on_commit_callbacks
):
    t = two_accounts
    open_portal_as(client, t.ann)
    with django_capture_on_commit_callbacks(execute=True):
        add_user(client, t.a, username="olga@alpha.example", email="olga@alpha.example")
    olga = Invitation.objects.get().user
    with django_capture_on_commit_callbacks(execute=True):
        response = action(client, "resend_invitations", olga)
    assert "Sent a new invitation to olga@alpha.example" in text_of(response)
    first, second = mailoutbox
    assert link_in(first) != link_in(second)

    from django.test import Client

    old = Client().get(link_in(first), follow=True)
    assert "This link can't be used" in text_of(old)
    assert choose_password(Client(), link_in(second)).status_code == 302
    kinds = list(AuditEvent.objects.filter(user=olga, kind__startswith="invitation").order_by("pk")
                 .values_list("kind", flat=True))
    assert kinds == ["invitation_sent", "invitation_revoked", "invitation_sent", "invitation_accepted"]


def test_resending_is_refused_once_the_user_has_a_password_or_when_they_belong_elsewhere(
    client, two_accounts, mailoutbox, django_capture_on_commit_callbacks
):
    t = two_accounts
    open_portal_as(client, t.ann)
    t.sam.set_unusable_password()
    t.sam.save()
    with django_capture_on_commit_callbacks(execute=True):
        response = action(client, "resend_invitations", t.amy, t.sam, t.bea)
    page = text_of(response)
    assert "Not sent: amy@alpha.example has chosen a password already" in page
    assert "Not sent: You do not manage every account of sam@shared.example" in page
    assert mailoutbox == [] and not Invitation.objects.exists()


def test_an_old_link_cannot_set_a_password_once_one_was_set_another_way(
    client, two_accounts, mailoutbox, django_capture_on_commit_callbacks
):
    t = two_accounts
    open_portal_as(client, t.ann)
    with django_capture_on_commit_callbacks(execute=True):
        add_user(client, t.a, username="pia@alpha.example", email="pia@alpha.example")
    pia = Invitation.objects.get().user
    pia.set_password("chosen through forgot password 1")
    pia.save()

    from django.test import Client

    response = Client().get(link_in(mailoutbox[0]), follow=True)
    assert "You have chosen a password already" in text_of(response)
    pia.refresh_from_db()
    assert pia.check_password("chosen through forgot password 1")


def test_deactivating_ends_the_users_sessions_and_is_audited(client, two_accounts):
    t = two_accounts
    from django.test import Client

    amy_browser = Client()
    amy_browser.force_login(t.amy)
    assert amy_browser.get("/me/").status_code == 200
    open_portal_as(client, t.ann)
    response = action(client, "deactivate_users", t.amy)
    assert "Deactivated amy@alpha.example" in text_of(response)
    t.amy.refresh_from_db()
    assert not t.amy.is_active
    assert not UserSession.objects.filter(user_id=t.amy.pk).exists()
    assert amy_browser.get("/me/").status_code == 302
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.USER_DEACTIVATED)
    assert (event.user, event.actor, event.account) == (t.amy, t.ann, t.a)
    assert event.detail["sessions_ended"] == 1


def test_a_contact_cannot_deactivate_a_shared_user_another_accounts_user_or_staff(client, two_accounts):
    t = two_accounts
    staff = UserFactory(username="eng@mitel.example", staff=True)
    MembershipFactory(user=staff, account=t.a)
    open_portal_as(client, t.ann)
    response = action(client, "deactivate_users", t.sam, t.bea, staff)
    assert "Not deactivated: sam@shared.example also belongs to a Mitel account you do not manage" in \
        text_of(response)
    for user in (t.sam, t.bea, staff):
        user.refresh_from_db()
        assert user.is_active
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.USER_DEACTIVATED).exists()


def test_support_staff_get_neither_action(client, two_accounts):
    from django.contrib.auth.models import Group

    support = UserFactory(username="support@mitel.example", staff=True)
    support.groups.add(Group.objects.get(name="Support staff"))
    open_portal_as(client, support)
    actions = dict(client.get("/admin/accounts/user/").context["action_form"].fields["action"].choices)
    assert "resend_invitations" not in actions and "deactivate_users" not in actions
    action(client, "deactivate_users", two_accounts.amy)
    two_accounts.amy.refresh_from_db()
    assert two_accounts.amy.is_active


def test_a_new_user_of_an_sso_only_account_is_told_to_use_single_sign_on(
    client, two_accounts, mailoutbox, django_capture_on_commit_callbacks
):
    from accounts.services import invitations

    t = two_accounts
    nick = UserFactory(username="nick@bravo.example", email="nick@bravo.example")
    MembershipFactory(user=nick, account=t.b)
    nick.set_unusable_password()
    nick.save()
    with django_capture_on_commit_callbacks(execute=True):
        invitations.welcome(nick, t.b, acting_user=t.ben, now=timezone.now())
    [mail] = mailoutbox
    assert "Sign in with your company account" in mail.body and not LINK.search(mail.body)


def test_a_link_dies_when_the_user_is_deactivated_or_it_expires(
    client, two_accounts, mailoutbox, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.test import Client

    from accounts.services import invitations

    t = two_accounts
    open_portal_as(client, t.ann)
    with django_capture_on_commit_callbacks(execute=True):
        add_user(client, t.a, username="quinn@alpha.example", email="quinn@alpha.example")
        add_user(client, t.a, username="rita@alpha.example", email="rita@alpha.example")
    quinn_mail, rita_mail = mailoutbox
    quinn = Invitation.objects.get(user__username="quinn@alpha.example").user
    action(client, "deactivate_users", quinn)
    assert "This link can't be used" in text_of(Client().get(link_in(quinn_mail), follow=True))
    assert Invitation.objects.get(user=quinn).status() == Invitation.Status.REVOKED

    rita = Invitation.objects.get(user__username="rita@alpha.example")
    Invitation.objects.filter(pk=rita.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert "This link can't be used" in text_of(Client().get(link_in(rita_mail), follow=True))
    with pytest.raises(invitations.InvitationRefused):
        invitations.set_first_password(rita, "a long new passphrase 2026")


def test_the_service_refuses_a_link_from_someone_who_does_not_manage_the_account(two_accounts, mailoutbox):
    from accounts.services import invitations, memberships

    t = two_accounts
    with pytest.raises(memberships.RoleRuleViolation):
        invitations.welcome(t.amy, t.a, acting_user=t.ben)
    with pytest.raises(invitations.InvitationRefused):
        invitations.resend_welcome(t.amy, acting_user=t.ben)
    assert not Invitation.objects.exists() and mailoutbox == []
