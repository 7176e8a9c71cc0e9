"""Authorized Contacts managing their own account's users and SSO connection, within Mitel's rules."""

import pytest
from django.db.models import F

from accounts.models import AuditEvent, Membership, MitelAccount, User
from accounts.services.users import StaleEdit, update_user
from sso.models import SsoConnection
from tests.factories import MembershipFactory, UserFactory
from tests.portal.conftest import b_markers_in, lock_out, open_portal_as, text_of
from tests.portal.forms import admin_form_data, membership_prefix

pytestmark = pytest.mark.django_db

STALE = "This user was changed by someone else while you were editing; reload and try again."


def change_url(user: User) -> str:
    return f"/admin/accounts/user/{user.pk}/change/"


def edit_user(client, user: User, **changes):
    """Open ``user``'s page, change some fields, press Save."""
    page = client.get(change_url(user))
    assert page.status_code == 200
    return client.post(change_url(user), admin_form_data(page, **changes))


def roles_of(user: User, account) -> set[str]:
    return {role.value for role in Membership.objects.get(user=user, account=account).roles}


@pytest.fixture
def grace_and_alice(db) -> tuple[User, User]:
    """Grace, Decision Maker of Acme Dental, and Alice, a user of it."""
    grace = MembershipFactory(user__username="grace@acme.example", account__name="Acme Dental",
                              decision_maker=True)
    alice = MembershipFactory(user__username="alice@acme.example", account=grace.account)
    return grace.user, alice.user


def test_grace_changes_alices_username_and_the_audit_trail_has_the_old_and_the_new(client,
                                                                                  grace_and_alice):
    grace, alice = grace_and_alice
    open_portal_as(client, grace)
    response = edit_user(client, alice, username="Alice.Archer@ACME.example ")
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.username == "alice.archer@acme.example"
    assert alice.version == 2
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.USERNAME_CHANGED)
    assert (event.actor, event.user, event.account.name) == (grace, alice, "Acme Dental")
    assert event.detail == {"old": "alice@acme.example", "new": "alice.archer@acme.example"}


def test_grace_cannot_take_a_username_someone_else_has(client, grace_and_alice):
    grace, alice = grace_and_alice
    MembershipFactory(user__username="dave@acme.example", account=grace.memberships.get().account)
    open_portal_as(client, grace)
    response = edit_user(client, alice, username="DAVE@acme.example")
    assert response.status_code == 200
    assert "A user with that Mitel username already exists." in text_of(response)
    assert User.objects.filter(username="alice@acme.example").exists()


@pytest.mark.parametrize("role", ["is_decision_maker", "is_billing_contact"])
def test_a_phone_manager_cannot_make_a_decision_maker_or_billing_contact(client, two_accounts, role):
    t = two_accounts
    open_portal_as(client, t.pat)
    page = client.get(change_url(t.amy))
    prefix = membership_prefix(page, "Alpha Dental")
    response = client.post(change_url(t.amy), admin_form_data(page, **{f"{prefix}-{role}": True}))
    assert response.status_code == 200
    assert "A Phone Manager cannot grant or take away" in text_of(response)
    assert roles_of(t.amy, t.a) == set()
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.ROLES_CHANGED, user=t.amy).exists()


def test_a_phone_manager_cannot_take_the_decision_maker_role_away(client, two_accounts):
    t = two_accounts
    MembershipFactory(user=UserFactory(username="dm2@alpha.example"), account=t.a, is_decision_maker=True)
    open_portal_as(client, t.pat)
    page = client.get(change_url(t.ann))
    prefix = membership_prefix(page, "Alpha Dental")
    response = client.post(change_url(t.ann), admin_form_data(page, **{f"{prefix}-is_decision_maker": False}))
    assert response.status_code == 200
    assert roles_of(t.ann, t.a) == {"decision_maker"}


def test_a_phone_manager_grants_the_other_roles_and_the_change_is_audited(client, two_accounts):
    t = two_accounts
    open_portal_as(client, t.pat)
    page = client.get(change_url(t.amy))
    prefix = membership_prefix(page, "Alpha Dental")
    response = client.post(change_url(t.amy), admin_form_data(
        page, **{f"{prefix}-is_technical_contact": True, f"{prefix}-is_phone_manager": True}))
    assert response.status_code == 302
    assert roles_of(t.amy, t.a) == {"technical_contact", "phone_manager"}
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.ROLES_CHANGED, user=t.amy)
    assert (event.actor, event.account) == (t.pat, t.a)
    assert event.detail["before"] == [] and set(event.detail["after"]) == {"technical_contact",
                                                                            "phone_manager"}


def test_an_account_keeps_at_least_one_decision_maker(client, two_accounts):
    t = two_accounts
    open_portal_as(client, t.ann)
    page = client.get(change_url(t.ann))
    prefix = membership_prefix(page, "Alpha Dental")
    unticked = client.post(change_url(t.ann), admin_form_data(page, **{f"{prefix}-is_decision_maker": False}))
    assert ("Alpha Dental needs at least one Decision Maker: make someone else Decision Maker first."
            in text_of(unticked))
    removed = client.post(change_url(t.ann), admin_form_data(page, **{f"{prefix}-DELETE": True}))
    assert "needs at least one Decision Maker" in text_of(removed)
    assert roles_of(t.ann, t.a) == {"decision_maker"}


def test_a_decision_maker_takes_a_member_out_of_the_account_and_the_user_stays(client, two_accounts):
    t = two_accounts
    open_portal_as(client, t.ann)
    page = client.get(change_url(t.amy))
    prefix = membership_prefix(page, "Alpha Dental")
    removed = client.post(change_url(t.amy), admin_form_data(page, **{f"{prefix}-DELETE": True}))
    assert removed.status_code == 302
    assert not Membership.objects.filter(user=t.amy).exists()
    assert User.objects.filter(pk=t.amy.pk, is_active=True).exists()
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.ROLES_CHANGED, user=t.amy)
    assert (event.actor, event.account, event.detail.get("removed")) == (t.ann, t.a, True)


def test_a_decision_maker_hands_over_to_another_and_steps_down(client, two_accounts):
    t = two_accounts
    open_portal_as(client, t.ann)
    page = client.get(change_url(t.amy))
    prefix = membership_prefix(page, "Alpha Dental")
    assert client.post(change_url(t.amy), admin_form_data(
        page, **{f"{prefix}-is_decision_maker": True})).status_code == 302
    page = client.get(change_url(t.ann))
    prefix = membership_prefix(page, "Alpha Dental")
    assert client.post(change_url(t.ann), admin_form_data(
        page, **{f"{prefix}-is_decision_maker": False})).status_code == 302
    assert roles_of(t.ann, t.a) == set() and roles_of(t.amy, t.a) == {"decision_maker"}
    assert client.get("/admin/").status_code == 302  # ann is no longer an Authorized Contact


def test_a_shared_username_is_read_only_with_the_reason_shown(client, two_accounts):
    t = two_accounts
    open_portal_as(client, t.ann)
    page = client.get(change_url(t.sam))
    assert ('id="read-only-reason">This username also belongs to a Mitel account you do not administer, so '
            "only someone who administers all of its accounts can change the username, names or e-mail. "
            "You can still change its roles in your accounts.</p>") in text_of(page)
    assert not b_markers_in(page)  # not even which account that is
    assert "username" not in page.context["adminform"].form.fields
    prefix = membership_prefix(page, "Alpha Dental")
    data = admin_form_data(page, **{f"{prefix}-is_technical_contact": True})
    data.update(username="hijacked@evil.example", email="hijacked@evil.example")
    assert client.post(change_url(t.sam), data).status_code == 302
    sam = User.objects.get(pk=t.sam.pk)
    assert (sam.username, sam.email) == ("sam@shared.example", "sam@shared.example")
    assert roles_of(sam, t.a) == {"technical_contact"}  # roles in ann's own account still change
    assert roles_of(sam, t.b) == {"decision_maker", "billing_contact"}


def test_someone_who_administers_all_its_accounts_may_change_a_shared_username(client, two_accounts):
    t = two_accounts
    Membership.objects.create(user=t.ann, account=t.b, is_decision_maker=True)
    # A password session acts only in accounts that take passwords (SECURITY.md 43).
    MitelAccount.objects.filter(pk=t.b.pk).update(allow_password_sign_in=True)
    open_portal_as(client, t.ann)
    assert edit_user(client, t.sam, username="sam@new.example").status_code == 302
    assert User.objects.get(pk=t.sam.pk).username == "sam@new.example"
    events = AuditEvent.objects.filter(kind=AuditEvent.Kind.USERNAME_CHANGED)
    assert {event.account for event in events} == {t.a, t.b}


def test_a_mitel_staff_user_in_the_account_is_read_only_for_its_contacts(client, two_accounts):
    t = two_accounts
    staff = UserFactory(username="eng@mitel.example", is_staff=True)
    MembershipFactory(user=staff, account=t.a)
    open_portal_as(client, t.ann)
    page = client.get(change_url(staff))
    assert ('id="read-only-reason">This is a Mitel staff user: only Mitel administrators can change it.</p>'
            in text_of(page))
    assert client.post(change_url(staff), {"username": "x@evil.example"}).status_code == 403


def test_a_technical_contact_sees_the_accounts_users_but_cannot_change_them(client, two_accounts):
    t = two_accounts
    tech = UserFactory(username="tech@alpha.example")
    MembershipFactory(user=tech, account=t.a, is_technical_contact=True)
    open_portal_as(client, tech)
    listed = client.get("/admin/accounts/user/")
    assert t.amy in listed.context["cl"].result_list
    assert ('id="read-only-reason">Your roles let you see this user but not change it.</p>'
            in text_of(client.get(change_url(t.amy))))
    assert client.post(change_url(t.amy), {"username": "x@alpha.example"}).status_code == 403
    assert client.get("/admin/accounts/user/add/").status_code == 403


def test_two_contacts_editing_one_user_at_once_the_second_is_told_to_reload(client, two_accounts):
    from django.test import Client

    t = two_accounts
    first, second = open_portal_as(client, t.ann), open_portal_as(Client(), t.pat)
    page_of_first, page_of_second = first.get(change_url(t.amy)), second.get(change_url(t.amy))
    early = first.post(change_url(t.amy), admin_form_data(page_of_first, first_name="Amelia"))
    assert early.status_code == 302
    late = second.post(change_url(t.amy), admin_form_data(page_of_second, last_name="Overwritten"))
    assert late.status_code == 200 and STALE in text_of(late)
    amy = User.objects.get(pk=t.amy.pk)
    assert (amy.first_name, amy.last_name, amy.version) == ("Amelia", "Ash", 2)


def test_a_change_that_loses_the_race_after_its_check_writes_nothing(two_accounts):
    t = two_accounts
    amy = User.objects.get(pk=t.amy.pk)
    amy.first_name = "Late"
    User.objects.filter(pk=amy.pk).update(version=F("version") + 1)  # someone else saved meanwhile
    with pytest.raises(StaleEdit):
        update_user(amy, fields=["first_name"], expected_version=1, acting_user=t.ann)
    assert User.objects.get(pk=amy.pk).first_name == "Amy"
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.USER_CHANGED).exists()


def test_a_save_that_loses_the_race_in_the_portal_is_told_to_reload_and_writes_nothing(
    client, two_accounts, monkeypatch
):
    from django import forms

    from connect_portal.admin.users import UserAdminForm

    t = two_accounts
    open_portal_as(client, t.ann)
    page = client.get(change_url(t.amy))
    prefix = membership_prefix(page, "Alpha Dental")
    # The other save lands after this form was checked and before it is written.
    monkeypatch.setattr(UserAdminForm, "clean", forms.ModelForm.clean)
    User.objects.filter(pk=t.amy.pk).update(version=F("version") + 1)
    response = client.post(change_url(t.amy), admin_form_data(
        page, first_name="Late", **{f"{prefix}-is_technical_contact": True}), follow=True)
    assert STALE in text_of(response)
    amy = User.objects.get(pk=t.amy.pk)
    assert amy.first_name == "Amy" and roles_of(amy, t.a) == set()
    assert not AuditEvent.objects.filter(user=amy, kind__in=["user_changed", "roles_changed"]).exists()


def test_a_contact_provisions_a_user_in_their_account(client, two_accounts):
    t = two_accounts
    open_portal_as(client, t.ann)
    page = client.get("/admin/accounts/user/add/")
    response = client.post("/admin/accounts/user/add/", admin_form_data(
        page, username="New.Person@alpha.example", first_name="New", last_name="Person",
        email="new.person@alpha.example", **{"memberships-0-account": str(t.a.pk),
                                              "memberships-0-is_emergency_contact": True}))
    assert response.status_code == 302, text_of(response)[:3000]
    created = User.objects.get(username="new.person@alpha.example")
    assert not created.has_usable_password() and not created.is_staff
    assert roles_of(created, t.a) == {"emergency_contact"}
    added = AuditEvent.objects.get(kind=AuditEvent.Kind.ROLES_CHANGED, user=created)
    assert added.account == t.a and added.detail["added"] is True and added.actor == t.ann


def test_a_contact_cannot_provision_a_user_outside_their_accounts(client, two_accounts):
    t = two_accounts
    open_portal_as(client, t.ann)
    page = client.get("/admin/accounts/user/add/")
    nowhere = client.post("/admin/accounts/user/add/", admin_form_data(page, username="lost@alpha.example"))
    assert "Choose at least one of your accounts" in text_of(nowhere)
    in_b = client.post("/admin/accounts/user/add/", admin_form_data(
        page, username="mole@alpha.example", **{"memberships-0-account": str(t.b.pk)}))
    assert "Select a valid choice" in text_of(in_b)
    assert not User.objects.filter(username__in=["lost@alpha.example", "mole@alpha.example"]).exists()


def test_a_contact_unlocks_a_user_of_their_account_from_the_users_page(client, two_accounts):
    t = two_accounts
    lock_out(t.amy)
    open_portal_as(client, t.ann)
    page = text_of(client.get(change_url(t.amy)))
    assert "Locked out" in page and "Unlock amy@alpha.example" in page
    assert "203.0.113.66" not in page  # addresses are for Mitel staff
    response = client.post(change_url(t.amy), {"CHANGE_FORM-action": "unlock_users",
                                               "_selected_action": t.amy.pk})
    assert response.status_code == 302
    assert "Locked out" not in text_of(client.get(change_url(t.amy)))
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.UNLOCKED)
    assert (event.user, event.actor, event.account) == (t.amy, t.ann, t.a)


def sso_url(connection: SsoConnection) -> str:
    return f"/admin/sso/ssoconnection/{connection.pk}/change/"


def test_a_contact_never_reads_the_client_secret_and_an_empty_secret_keeps_it(
    client, two_accounts, monkeypatch
):
    from sso.services import edits

    saved = []
    monkeypatch.setattr(edits, "save_connection", lambda c: saved.append(c) or c.save() or c)
    t = two_accounts
    open_portal_as(client, t.ann)
    page = client.get(sso_url(t.a_connection))
    assert "alpha-secret-value" not in text_of(page)
    response = client.post(sso_url(t.a_connection), admin_form_data(page, client_id="alpha-client-2"))
    assert response.status_code == 302
    connection = SsoConnection.objects.get(pk=t.a_connection.pk)
    assert (connection.client_id, connection.client_secret) == ("alpha-client-2", "alpha-secret-value")
    assert saved == [connection]
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.SSO_CHANGED)
    assert (event.actor, event.account) == (t.ann, t.a)
    assert event.detail["changes"] == {"client_id": ["alpha-client-id", "alpha-client-2"]}
    assert event.detail["client_secret_changed"] is False
    assert "alpha-secret-value" not in str(event.detail)


def test_a_contact_sets_a_new_client_secret_and_only_the_fact_is_audited(client, two_accounts):
    t = two_accounts
    open_portal_as(client, t.ann)
    page = client.get(sso_url(t.a_connection))
    response = client.post(sso_url(t.a_connection), admin_form_data(page, new_client_secret="rotated-secret"))
    assert response.status_code == 302
    assert SsoConnection.objects.get(pk=t.a_connection.pk).client_secret == "rotated-secret"
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.SSO_CHANGED)
    assert event.detail["client_secret_changed"] is True
    assert "rotated-secret" not in str(event.detail) + event.user_agent
    history = text_of(client.get(f"/admin/sso/ssoconnection/{t.a_connection.pk}/history/"))
    assert "rotated-secret" not in history and "alpha-secret-value" not in history


def test_a_contact_connects_their_sso_account_and_only_theirs(client, two_accounts):
    from tests.factories import MitelAccountFactory

    t = two_accounts
    # Still taking passwords while its contact sets Single Sign On up (SECURITY.md 43).
    okta = MitelAccountFactory(name="Alpha Labs", authentication="okta", okta_beta=True,
                               allow_password_sign_in=True)
    MembershipFactory(user=t.ann, account=okta, is_decision_maker=True)
    open_portal_as(client, t.ann)
    page = client.get("/admin/sso/ssoconnection/add/")
    choices = [choice[0] for choice in page.context["adminform"].form.fields["account"].choices]
    assert [str(value) for value in choices if value] == [str(okta.pk)]  # not B, not A (connected)
    without_secret = client.post("/admin/sso/ssoconnection/add/", admin_form_data(
        page, account=str(okta.pk), issuer_url="https://alpha.okta.example", client_id="labs"))
    assert "A new connection needs the client secret." in text_of(without_secret)
    in_b = client.post("/admin/sso/ssoconnection/add/", admin_form_data(
        page, account=str(t.b.pk), issuer_url="https://evil.example", client_id="x", new_client_secret="x"))
    assert "Select a valid choice" in text_of(in_b)
    done = client.post("/admin/sso/ssoconnection/add/", admin_form_data(
        page, account=str(okta.pk), issuer_url="https://alpha.okta.example", client_id="labs",
        new_client_secret="labs-secret"))
    assert done.status_code == 302
    connection = SsoConnection.objects.get(account=okta)
    assert (connection.client_id, connection.client_secret) == ("labs", "labs-secret")
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.SSO_CHANGED, account=okta)
    assert event.detail["created"] is True and "labs-secret" not in str(event.detail)
