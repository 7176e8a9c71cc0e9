"""SECURITY.md 44: a contact cannot pull a member of another account into theirs; they invite, and
the membership exists once that person accepts, signed in as themselves."""

import re
from datetime import timedelta

import pytest
from django.template import Context, Template
from django.utils import timezone, translation

from accounts.models import AuditEvent, Domain, Invitation, Membership, MitelAccount, Role, User
from accounts.services import invitations, memberships
from tests.factories import MembershipFactory, MitelAccountFactory, UserFactory
from tests.portal.conftest import open_portal_as, text_of
from tests.portal.forms import admin_form_data

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://[^/\s]+(/me/invitations/[\w-]+/)")


class Cast:
    """Carol, Decision Maker of Acme and of Umbrella; bob, a user of Acme and Decision Maker of
    Globex (where carol has no role); alice, a user of Acme only; dan, a user of Umbrella."""

    def __init__(self) -> None:
        self.acme = MitelAccountFactory(name="Acme Dental")
        self.umbrella = MitelAccountFactory(name="Umbrella Corp", account_number="100005")
        self.globex = MitelAccountFactory(name="Globex Partners")
        self.carol = UserFactory(username="carol@acme.example", first_name="Carol", last_name="Cole")
        self.bob = UserFactory(username="bob@multi.example", first_name="Bob", last_name="Baker")
        self.alice = UserFactory(username="alice@acme.example")
        self.dan = UserFactory(username="dan@umbrella.example")
        MembershipFactory(user=self.carol, account=self.acme, decision_maker=True)
        MembershipFactory(user=self.carol, account=self.umbrella, decision_maker=True)
        MembershipFactory(user=self.bob, account=self.acme)
        MembershipFactory(user=self.bob, account=self.globex, decision_maker=True)
        MembershipFactory(user=self.alice, account=self.acme)
        MembershipFactory(user=self.dan, account=self.umbrella)


@pytest.fixture
def cast(db) -> Cast:
    return Cast()


def change_url(user: User) -> str:
    return f"/admin/accounts/user/{user.pk}/change/"


def add_account_row(client, user: User, account: MitelAccount, **roles: bool):
    """On ``user``'s page, add a row for ``account`` with ``roles`` ticked, and press Save."""
    page = client.get(change_url(user))
    assert page.status_code == 200
    rows = int(page.context["inline_admin_formsets"][0].formset.management_form["TOTAL_FORMS"].value())
    changes = {"memberships-TOTAL_FORMS": str(rows + 1), f"memberships-{rows}-account": str(account.pk)}
    changes |= {f"memberships-{rows}-is_{role}": True for role, on in roles.items() if on}
    return client.post(change_url(user), admin_form_data(page, **changes), follow=True)


def invite_bob(cast: Cast, *, now=None, roles=frozenset({Role.TECHNICAL_CONTACT})) -> Invitation:
    return invitations.invite(cast.umbrella, cast.bob, roles, acting_user=cast.carol, now=now)


def in_umbrella(user: User, cast: Cast) -> bool:
    return Membership.objects.filter(user=user, account=cast.umbrella).exists()


def test_a_contact_adding_a_user_of_another_account_sends_bob_an_invitation_not_a_membership(
    client, cast, mailoutbox, django_capture_on_commit_callbacks
):
    open_portal_as(client, cast.carol)
    with django_capture_on_commit_callbacks(execute=True):
        response = add_account_row(client, cast.bob, cast.umbrella, technical_contact=True)
    assert response.status_code == 200
    assert "Invitation sent to bob@multi.example" in text_of(response)
    assert not in_umbrella(cast.bob, cast)
    invitation = Invitation.objects.get(user=cast.bob, account=cast.umbrella)
    assert invitation.invited_by == cast.carol and invitation.roles == ["technical_contact"]
    assert invitation.status() == Invitation.Status.PENDING
    assert invitation.expires_at - invitation.created_at == timedelta(days=14)
    [mail] = mailoutbox
    assert mail.to == ["bob@multi.example"] and "Umbrella Corp" in mail.subject
    assert LINK.search(mail.body).group(1) == f"/me/invitations/{invitation.token}/"
    assert "Carol Cole" in mail.body and "Technical Contact" in mail.body
    sent = AuditEvent.objects.get(kind=AuditEvent.Kind.INVITATION_SENT)
    assert (sent.user, sent.actor, sent.account) == (cast.bob, cast.carol, cast.umbrella)
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.ROLES_CHANGED, user=cast.bob).exists()


def test_the_services_refuse_a_contact_adding_a_user_of_another_account_whatever_the_form(cast):
    with pytest.raises(memberships.InvitationRequired, match="only by accepting an invitation"):
        memberships.add_membership(cast.bob, cast.umbrella, frozenset(), acting_user=cast.carol)
    assert not in_umbrella(cast.bob, cast)


def test_a_user_whose_every_account_the_contact_manages_is_added_directly(client, cast, mailoutbox):
    open_portal_as(client, cast.carol)
    response = add_account_row(client, cast.alice, cast.umbrella, emergency_contact=True)
    assert "Invitation sent" not in text_of(response)
    assert Membership.objects.get(user=cast.alice, account=cast.umbrella).is_emergency_contact
    assert not Invitation.objects.exists() and not mailoutbox


def test_mitel_staff_who_change_users_still_add_anyone_directly(cast):
    admin = UserFactory(superuser=True)
    memberships.add_membership(cast.bob, cast.umbrella, frozenset(), acting_user=admin)
    assert in_umbrella(cast.bob, cast)


def test_bob_accepts_while_signed_in_and_only_then_joins_with_the_roles_offered(client, cast):
    invitation = invite_bob(cast)
    open_portal_as(client, cast.bob)
    page = client.get(f"/me/invitations/{invitation.token}/")
    assert page.status_code == 200
    assert "Umbrella Corp" in text_of(page) and "Technical Contact" in text_of(page)
    assert not in_umbrella(cast.bob, cast)
    response = client.post(f"/me/invitations/{invitation.token}/", {"answer": "accept"}, follow=True)
    assert "You joined Umbrella Corp." in text_of(response)
    assert Membership.objects.get(user=cast.bob, account=cast.umbrella).roles == [Role.TECHNICAL_CONTACT]
    accepted = AuditEvent.objects.get(kind=AuditEvent.Kind.INVITATION_ACCEPTED)
    assert (accepted.user, accepted.actor, accepted.account) == (cast.bob, cast.bob, cast.umbrella)
    added = AuditEvent.objects.get(kind=AuditEvent.Kind.ROLES_CHANGED, user=cast.bob)
    assert added.detail["added"] is True and added.detail["invited_by"] == "carol@acme.example"
    again = client.post(f"/me/invitations/{invitation.token}/", {"answer": "accept"})
    assert "You accepted this invitation already." in text_of(again)


def test_the_invitation_page_needs_a_signed_in_user(client, cast):
    invitation = invite_bob(cast)
    response = client.post(f"/me/invitations/{invitation.token}/", {"answer": "accept"})
    assert response.status_code == 302 and response["Location"].startswith("/signin/?next=/me/invitations/")
    assert not in_umbrella(cast.bob, cast)


@pytest.mark.parametrize("who", ["dan", "carol"])
def test_another_signed_in_user_cannot_accept_bobs_invitation_nor_read_it(client, cast, who):
    invitation = invite_bob(cast)
    someone = getattr(cast, who)
    open_portal_as(client, someone)
    page = client.get(f"/me/invitations/{invitation.token}/")
    assert page.status_code == 403
    assert "This invitation was sent to another Mitel username" in text_of(page)
    assert "Umbrella" not in text_of(page) and "bob@multi.example" not in text_of(page)
    refused = client.post(f"/me/invitations/{invitation.token}/", {"answer": "accept"})
    assert refused.status_code == 403
    assert not in_umbrella(cast.bob, cast)
    if who == "carol":
        assert Membership.objects.filter(user=cast.carol, account=cast.umbrella).count() == 1
    invitation.refresh_from_db()
    assert invitation.status() == Invitation.Status.PENDING


def test_a_contact_cannot_accept_on_bobs_behalf_through_the_services(cast):
    invitation = invite_bob(cast)
    with pytest.raises(invitations.InvitationRefused, match="another Mitel username"):
        invitations.accept(invitation, cast.carol)
    with pytest.raises(invitations.InvitationRefused):
        invitations.decline(invitation, cast.carol)
    assert not in_umbrella(cast.bob, cast)


def test_an_expired_invitation_is_refused(client, cast):
    invitation = invite_bob(cast, now=timezone.now() - timedelta(days=15))
    open_portal_as(client, cast.bob)
    page = client.get(f"/me/invitations/{invitation.token}/")
    assert "This invitation has expired" in text_of(page)
    response = client.post(f"/me/invitations/{invitation.token}/", {"answer": "accept"})
    assert "This invitation has expired" in text_of(response)
    assert not in_umbrella(cast.bob, cast)
    assert "Umbrella Corp" not in text_of(client.get("/me/"))


def test_an_invitation_cancelled_in_the_connect_portal_is_refused(client, cast):
    invitation = invite_bob(cast)
    open_portal_as(client, cast.carol)
    listed = client.get("/admin/accounts/invitation/", {"account": "100005", "status": "pending"})
    assert "bob@multi.example" in text_of(listed) and "Technical Contact" in text_of(listed)
    response = client.post("/admin/accounts/invitation/", {
        "action": "revoke_invitations", "_selected_action": [invitation.pk]}, follow=True)
    assert "Cancelled the invitation of bob@multi.example to Umbrella Corp." in text_of(response)
    revoked = AuditEvent.objects.get(kind=AuditEvent.Kind.INVITATION_REVOKED)
    assert (revoked.user, revoked.actor, revoked.account) == (cast.bob, cast.carol, cast.umbrella)
    open_portal_as(client, cast.bob)
    response = client.post(f"/me/invitations/{invitation.token}/", {"answer": "accept"})
    assert "This invitation was cancelled" in text_of(response)
    assert not in_umbrella(cast.bob, cast)


def test_a_technical_contact_sees_the_invitations_but_cannot_cancel_them(client, cast):
    invitation = invite_bob(cast)
    MembershipFactory(user=UserFactory(username="tess@umbrella.example"), account=cast.umbrella,
                      technical_contact=True)
    open_portal_as(client, User.objects.get(username="tess@umbrella.example"))
    listed = client.get("/admin/accounts/invitation/")
    assert "bob@multi.example" in text_of(listed)
    client.post("/admin/accounts/invitation/", {
        "action": "revoke_invitations", "_selected_action": [invitation.pk]})
    invitation.refresh_from_db()
    assert invitation.status() == Invitation.Status.PENDING


def test_bob_sees_his_invitation_on_personal_information_and_declines_it(client, cast):
    invitation = invite_bob(cast)
    open_portal_as(client, cast.bob)
    page = text_of(client.get("/me/"))
    assert "Invitations" in page and "Umbrella Corp" in page
    assert f'action="/me/invitations/{invitation.token}/"' in page
    response = client.post(f"/me/invitations/{invitation.token}/", {"answer": "decline"}, follow=True)
    assert "You declined the invitation to join Umbrella Corp." in text_of(response)
    assert "Umbrella Corp" not in text_of(client.get("/me/"))
    assert not in_umbrella(cast.bob, cast)
    declined = AuditEvent.objects.get(kind=AuditEvent.Kind.INVITATION_DECLINED)
    assert (declined.user, declined.actor, declined.account) == (cast.bob, cast.bob, cast.umbrella)


def test_an_invitation_dies_with_its_senders_power_to_grant_the_roles(cast):
    invitation = invite_bob(cast, roles=frozenset({Role.DECISION_MAKER}))
    Membership.objects.filter(user=cast.carol, account=cast.umbrella).update(
        is_decision_maker=False, is_phone_manager=True)
    with pytest.raises(invitations.InvitationRefused, match="no longer manages the users of Umbrella"):
        invitations.accept(invitation, cast.bob)
    assert not in_umbrella(cast.bob, cast)


def test_role_rules_apply_to_the_roles_an_invitation_offers(cast):
    Membership.objects.filter(user=cast.carol, account=cast.umbrella).update(
        is_decision_maker=False, is_phone_manager=True)
    with pytest.raises(memberships.RoleRuleViolation, match="A Phone Manager cannot grant"):
        invite_bob(cast, roles=frozenset({Role.DECISION_MAKER}))
    assert not Invitation.objects.exists()


def test_a_contact_cannot_invite_into_an_account_they_do_not_manage(cast):
    with pytest.raises(memberships.RoleRuleViolation, match="You do not manage this user in Globex"):
        invitations.invite(cast.globex, cast.alice, frozenset(), acting_user=cast.carol)
    assert not Invitation.objects.exists()


def test_inviting_again_replaces_the_open_invitation(cast):
    first = invite_bob(cast)
    second = invite_bob(cast, roles=frozenset({Role.BILLING_CONTACT}))
    first.refresh_from_db()
    assert first.status() == Invitation.Status.REVOKED
    assert second.status() == Invitation.Status.PENDING
    assert list(Invitation.objects.pending().filter(user=cast.bob)) == [second]


def add_new_user(client, username: str, account: MitelAccount):
    page = client.get("/admin/accounts/user/add/")
    return client.post("/admin/accounts/user/add/", admin_form_data(
        page, username=username, email=username, **{"memberships-0-account": str(account.pk)}))


def test_a_contact_creates_a_new_user_under_the_accounts_verified_domain_directly(client, cast):
    Domain.objects.create(account=cast.umbrella, name="umbrella.example", token="t",
                          verified_at=timezone.now())
    open_portal_as(client, cast.carol)
    response = add_new_user(client, "new@umbrella.example", cast.umbrella)
    assert response.status_code == 302, text_of(response)[:2000]
    assert in_umbrella(User.objects.get(username="new@umbrella.example"), cast)
    # Only the new user's own link to choose a password: no invitation to join is needed.
    assert list(Invitation.objects.values_list("sets_password", flat=True)) == [True]


def test_a_contact_cannot_create_a_user_under_a_domain_verified_for_another_account(client, cast):
    Domain.objects.create(account=cast.globex, name="globex.example", token="t",
                          verified_at=timezone.now())
    open_portal_as(client, cast.carol)
    response = add_new_user(client, "squat@globex.example", cast.umbrella)
    assert "globex.example is verified for another Mitel account" in text_of(response)
    assert not User.objects.filter(username="squat@globex.example").exists()


@pytest.mark.parametrize(("language", "sentence"), [
    ("en", "invites your Mitel username <strong>bob@multi.example</strong> to join that Mitel account"),
    ("fr", "invite votre nom d'utilisateur Mitel <strong>bob@multi.example</strong> à rejoindre"),
])
def test_the_invitation_mail_shows_the_username_in_bold_inside_the_translated_sentence(
    cast, mailoutbox, django_capture_on_commit_callbacks, language, sentence
):
    with translation.override(language), django_capture_on_commit_callbacks(execute=True):
        invite_bob(cast)
    [mail] = mailoutbox
    [(html, _)] = mail.alternatives
    assert sentence in html
    assert "<strong>" not in mail.body and "bob@multi.example" in mail.body


def test_the_invitation_mail_names_the_roles_and_the_account_as_text(
    cast, mailoutbox, django_capture_on_commit_callbacks
):
    MitelAccount.objects.filter(pk=cast.umbrella.pk).update(name="Smith & Sons")
    cast.umbrella.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        invite_bob(cast, roles=frozenset({Role.TECHNICAL_CONTACT, Role.DECISION_MAKER}))
    [mail] = mailoutbox
    assert mail.subject == "You are invited to join Smith & Sons in Mitel"
    assert "to join that Mitel account as Decision Maker, Technical Contact." in mail.body
    assert "Smith &amp; Sons" in mail.alternatives[0][0]


def test_the_bold_value_of_a_mail_sentence_is_escaped():
    rendered = Template("{% load i18n mail_markup %}{% blocktranslate with name=value|strong %}"
                        "Hello {{ name }},{% endblocktranslate %}").render(Context({"value": "<b>Pat</b>"}))
    assert rendered == "Hello <strong>&lt;b&gt;Pat&lt;/b&gt;</strong>,"
