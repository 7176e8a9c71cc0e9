"""The edges of Mitel's membership rules, as the services enforce them (the portal's forms ask first).

A form checks the rules before it saves; the services check them again inside their transaction,
for the callers that have no form (the user import, invitations) and for an edit that raced another.
"""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client, RequestFactory
from django.utils import timezone, translation

from accounts.models import AuditEvent, Domain, Membership, MitelAccount, Role
from accounts.services.memberships import (
    Ability,
    RoleRuleViolation,
    SessionScope,
    abilities_in_some_account,
    accounts_visible_to,
    add_membership,
    change_roles,
    check_role_change,
    is_authorized_contact,
    own_memberships,
    remove_membership,
    users_managed_by,
    users_visible_to,
)
from tests.factories import MembershipFactory, MitelAccountFactory, UserFactory

pytestmark = pytest.mark.django_db

# The lock, the membership with its user and account, the rules, the record, the user's sessions.
QUERIES_TO_REMOVE = 14
QUERIES_TO_CHANGE = 13
CLIENT = "198.51.100.23"


def portal_request(actor):
    request = RequestFactory().post("/admin/", REMOTE_ADDR=CLIENT, HTTP_USER_AGENT="Edge test browser")
    request.user = actor
    return request


@pytest.fixture(autouse=True)
def in_english():
    """The refusals are read in English, whatever language an earlier test left active."""
    with translation.override("en"):
        yield


@pytest.fixture
def account():
    return MitelAccountFactory(name="Delta Clinic")


@pytest.fixture
def decision_maker(account):
    return MembershipFactory(account=account, decision_maker=True).user


def test_the_only_decision_maker_cannot_be_taken_out_of_the_account(account, decision_maker):
    own = Membership.objects.get(user=decision_maker, account=account)
    with pytest.raises(RoleRuleViolation, match="Delta Clinic needs at least one Decision Maker"):
        remove_membership(own, acting_user=decision_maker)
    assert Membership.objects.filter(pk=own.pk).exists()
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.ROLES_CHANGED).exists()


def test_a_member_holding_roles_is_taken_out_with_their_roles_recorded(account, decision_maker):
    member = MembershipFactory(account=account, technical_contact=True, emergency_contact=True)
    remove_membership(member, acting_user=decision_maker, request=portal_request(decision_maker))
    assert not Membership.objects.filter(pk=member.pk).exists()
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.ROLES_CHANGED, user=member.user)
    assert (event.actor, event.account, event.ip_address, event.user_agent) == (
        decision_maker, account, CLIENT, "Edge test browser")
    assert event.detail == {"before": ["emergency_contact", "technical_contact"], "after": [],
                            "removed": True}


def test_a_phone_manager_cannot_take_a_billing_contact_out(account):
    phone_manager = MembershipFactory(account=account, phone_manager=True).user
    billing = MembershipFactory(account=account, billing_contact=True)
    with pytest.raises(RoleRuleViolation, match="cannot grant or take away Billing Contact in Delta Clinic"):
        remove_membership(billing, acting_user=phone_manager)
    assert Membership.objects.filter(pk=billing.pk).exists()


def test_taking_a_member_out_reads_the_membership_with_its_user_and_account_at_once(
        account, decision_maker, django_assert_num_queries):
    member = MembershipFactory(account=account, technical_contact=True)
    member = Membership.objects.get(pk=member.pk)  # as the portal's inline holds it
    with django_assert_num_queries(QUERIES_TO_REMOVE):
        remove_membership(member, acting_user=decision_maker)


def test_a_member_added_is_recorded_with_the_address_they_were_added_from(account, decision_maker):
    newcomer = UserFactory()
    add_membership(newcomer, account, frozenset({Role.EMERGENCY_CONTACT}), acting_user=decision_maker,
                   request=portal_request(decision_maker))
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.ROLES_CHANGED, user=newcomer)
    assert (event.actor, event.account, event.ip_address, event.user_agent) == (
        decision_maker, account, CLIENT, "Edge test browser")
    assert event.detail == {"before": [], "after": ["emergency_contact"], "added": True}


def test_a_member_added_to_an_account_that_requires_mfa_is_signed_out_where_unverified(
        account, decision_maker):
    account.require_mfa = True
    account.save()
    newcomer = UserFactory()
    browser, members_browser = Client(), Client()
    browser.force_login(newcomer)
    members_browser.force_login(decision_maker)  # the account's own people are not the newcomer
    assert browser.get("/me/").status_code == 200
    add_membership(newcomer, account, frozenset(), acting_user=decision_maker,
                   request=portal_request(decision_maker))
    assert browser.get("/me/").status_code != 200
    assert members_browser.get("/me/").status_code == 200
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.SESSIONS_ENDED, user=newcomer)
    assert (event.actor, event.account, event.ip_address) == (decision_maker, account, CLIENT)
    assert event.detail == {"reason": "account_requires_mfa", "sessions_ended": 1}


def test_the_only_decision_maker_cannot_give_up_the_role(account, decision_maker):
    own = Membership.objects.get(user=decision_maker, account=account)
    with pytest.raises(RoleRuleViolation, match="Delta Clinic needs at least one Decision Maker"):
        change_roles(own, frozenset({Role.PHONE_MANAGER}), acting_user=decision_maker)
    assert Membership.objects.get(pk=own.pk).roles == [Role.DECISION_MAKER]


def test_a_role_change_is_recorded_with_the_address_it_came_from(account, decision_maker):
    member = MembershipFactory(account=account, technical_contact=True)
    change_roles(member, frozenset({Role.PHONE_MANAGER}), acting_user=decision_maker,
                 request=portal_request(decision_maker))
    assert Membership.objects.get(pk=member.pk).roles == [Role.PHONE_MANAGER]
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.ROLES_CHANGED, user=member.user)
    assert (event.actor, event.account, event.ip_address, event.user_agent) == (
        decision_maker, account, CLIENT, "Edge test browser")
    assert event.detail == {"before": ["technical_contact"], "after": ["phone_manager"]}


def test_a_role_change_reads_the_membership_with_its_user_and_account_at_once(
        account, decision_maker, django_assert_num_queries):
    member = Membership.objects.get(pk=MembershipFactory(account=account, technical_contact=True).pk)
    with django_assert_num_queries(QUERIES_TO_CHANGE):
        change_roles(member, frozenset({Role.EMERGENCY_CONTACT}), acting_user=decision_maker)


def test_a_member_whose_roles_change_is_signed_out_everywhere_and_it_is_recorded(account, decision_maker):
    member = MembershipFactory(account=account, technical_contact=True)
    browser = Client()
    browser.force_login(member.user)
    change_roles(member, frozenset({Role.EMERGENCY_CONTACT}), acting_user=decision_maker,
                 request=portal_request(decision_maker))
    assert browser.get("/me/").status_code != 200
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.SESSIONS_ENDED, user=member.user)
    assert (event.actor, event.account, event.ip_address) == (decision_maker, account, CLIENT)
    assert event.detail == {"reason": "roles_changed", "sessions_ended": 1}


def test_a_member_added_without_roles_stays_signed_in(account, decision_maker):
    newcomer = UserFactory()
    browser = Client()
    browser.force_login(newcomer)
    add_membership(newcomer, account, frozenset(), acting_user=decision_maker)
    assert browser.get("/me/").status_code == 200
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.SESSIONS_ENDED).exists()


def test_a_mitel_administrator_grants_every_role_in_any_account(account, decision_maker):
    admin = UserFactory(username="admin@mitel.example", superuser=True)
    member = MembershipFactory(account=account)
    change_roles(member, frozenset(Role), acting_user=admin)
    assert set(Membership.objects.get(pk=member.pk).roles) == set(Role)


def test_a_deactivated_decision_maker_changes_no_roles(account, decision_maker):
    member = MembershipFactory(account=account)
    MembershipFactory(account=account, decision_maker=True)  # the account is not left without one
    decision_maker.is_active = False
    decision_maker.save()
    with pytest.raises(RoleRuleViolation, match="You do not manage this user in Delta Clinic."):
        change_roles(member, frozenset({Role.TECHNICAL_CONTACT}), acting_user=decision_maker)
    assert Membership.objects.get(pk=member.pk).roles == []


@pytest.mark.parametrize("staff", [{"is_staff": True}, {"is_superuser": True}], ids=["staff", "superuser"])
def test_a_contact_does_not_manage_a_mitel_staff_member_of_their_account(account, decision_maker, staff):
    engineer = MembershipFactory(account=account, user__username="eng@mitel.example", **{
        f"user__{flag}": value for flag, value in staff.items()})
    with pytest.raises(RoleRuleViolation, match=r"^\['You do not manage this user in Delta Clinic.'\]$"):
        change_roles(engineer, frozenset({Role.TECHNICAL_CONTACT}), acting_user=decision_maker)
    assert Membership.objects.get(pk=engineer.pk).roles == []


def test_a_contact_of_both_accounts_adds_a_user_under_the_other_accounts_domain(account, decision_maker):
    other = MitelAccountFactory(name="Echo Labs")
    MembershipFactory(account=other, user=decision_maker, decision_maker=True)
    Domain.objects.create(account=other, name="echo.example", token="echo-token",
                          verified_at=timezone.now(), verified_by="dns")
    newcomer = UserFactory(username="new@echo.example")
    add_membership(newcomer, account, frozenset(), acting_user=decision_maker)
    assert Membership.objects.filter(user=newcomer, account=account).exists()


def test_another_accounts_contact_may_not_add_a_user_under_its_domain(account, decision_maker):
    other = MitelAccountFactory(name="Echo Labs")
    Domain.objects.create(account=other, name="echo.example", token="echo-token",
                          verified_at=timezone.now(), verified_by="dns")
    newcomer = UserFactory(username="new@echo.example")
    with pytest.raises(RoleRuleViolation, match="echo.example is verified for another Mitel account"):
        add_membership(newcomer, account, frozenset(), acting_user=decision_maker)
    assert not Membership.objects.filter(user=newcomer).exists()


def test_a_contact_of_another_account_is_told_they_do_not_manage_its_users(account):
    elsewhere = MembershipFactory(account__name="Foxtrot Inc", decision_maker=True).user
    with pytest.raises(RoleRuleViolation) as refused:
        check_role_change(elsewhere, account, frozenset(), frozenset({Role.TECHNICAL_CONTACT}))
    assert refused.value.messages == ["You do not manage the users of Delta Clinic."]


def test_a_phone_manager_is_told_every_role_they_may_not_grant(account):
    phone_manager = MembershipFactory(account=account, phone_manager=True).user
    with pytest.raises(RoleRuleViolation) as refused:
        check_role_change(phone_manager, account, frozenset(),
                          frozenset({Role.DECISION_MAKER, Role.BILLING_CONTACT, Role.TECHNICAL_CONTACT}))
    assert refused.value.messages == [
        "A Phone Manager cannot grant or take away Billing Contact or Decision Maker in Delta Clinic; "
        "ask a Decision Maker of the account."]


def test_a_contact_manages_no_superuser_of_their_account(account, decision_maker):
    member = MembershipFactory(account=account).user
    superuser = MembershipFactory(account=account, user__is_superuser=True, user__is_staff=False).user
    assert set(users_managed_by(decision_maker)) == {decision_maker, member}
    assert superuser not in users_managed_by(decision_maker)


def test_nobody_signed_out_or_deactivated_is_an_authorized_contact(account, decision_maker):
    assert is_authorized_contact(decision_maker)
    assert not is_authorized_contact(AnonymousUser())
    decision_maker.is_active = False
    decision_maker.save()
    assert not is_authorized_contact(decision_maker)


def test_a_deactivated_contact_sees_no_account_and_no_user(account, decision_maker):
    assert abilities_in_some_account(decision_maker) == frozenset(Ability)
    assert list(accounts_visible_to(decision_maker, Ability.MANAGE_USERS)) == [account]
    decision_maker.is_active = False
    decision_maker.save()
    assert abilities_in_some_account(decision_maker) == frozenset()
    assert abilities_in_some_account(AnonymousUser()) == frozenset()
    for ability in Ability:
        assert not accounts_visible_to(decision_maker, ability).exists()
    assert not users_visible_to(decision_maker).exists()


def test_a_contact_holds_what_each_of_their_roles_gives(account):
    contact = MembershipFactory(account=account, technical_contact=True, emergency_contact=True).user
    MembershipFactory(account=MitelAccountFactory(), user=contact, billing_contact=True)
    assert abilities_in_some_account(contact) == {Ability.VIEW_ACCOUNT, Ability.VIEW_USERS, Ability.VIEW_SSO}


def test_how_a_session_was_proven_decides_the_accounts_it_acts_in():
    if not MitelAccount.objects.filter(pk=1).exists():
        MitelAccountFactory(pk=1, name="The first account")
    accounts = {
        "mitel": MitelAccountFactory(),
        "entra with passwords": MitelAccountFactory(entra=True, allow_password_sign_in=True),
        "entra": MitelAccountFactory(entra=True),
        "okta before its beta": MitelAccountFactory(authentication=MitelAccount.Authentication.OKTA),
        "okta in its beta": MitelAccountFactory(okta=True),
        "first": MitelAccount.objects.get(pk=1),
    }
    user = UserFactory()
    for account in accounts.values():
        MembershipFactory(user=user, account=account)

    def seen(scope):
        user.signin_scope = scope
        found = {membership.account_id for membership in own_memberships(user)}
        return {name for name, account in accounts.items() if account.pk in found}

    everywhere = set(accounts)
    assert seen(None) == everywhere
    first_takes_passwords = "first" if accounts["first"].password_allowed else None
    for method in ("password", "passkey"):
        assert seen(SessionScope(method)) == {"mitel", "entra with passwords", "okta before its beta",
                                              first_takes_passwords} - {None}
    assert seen(SessionScope("azure_ad", account_id=accounts["entra"].pk)) == {"entra"}
    assert seen(SessionScope("okta", account_id=accounts["okta in its beta"].pk)) == {"okta in its beta"}
    assert seen(SessionScope("azure_ad")) == set()
