"""Mitel's role rules and the abilities each role gives, as tables."""

import pytest

from accounts.models import Role
from accounts.services.memberships import (
    Ability,
    RoleRuleViolation,
    accounts_visible_to,
    check_role_change,
    grantable_roles,
)
from tests.factories import MembershipFactory, MitelAccountFactory, UserFactory

pytestmark = pytest.mark.django_db

ALL = frozenset(Role)


@pytest.mark.parametrize(("actor_role", "grantable"), [
    ("is_decision_maker", ALL),
    ("is_phone_manager", ALL - {Role.DECISION_MAKER, Role.BILLING_CONTACT}),
    ("is_technical_contact", frozenset()),
    ("is_billing_contact", frozenset()),
    ("is_emergency_contact", frozenset()),
    (None, frozenset()),
])
def test_who_may_grant_which_roles(actor_role, grantable):
    account = MitelAccountFactory()
    actor = UserFactory()
    MembershipFactory(user=actor, account=account, **({actor_role: True} if actor_role else {}))
    assert grantable_roles(actor, account) == grantable


def test_roles_in_one_account_give_nothing_in_another():
    mine, theirs = MitelAccountFactory(), MitelAccountFactory()
    actor = UserFactory()
    MembershipFactory(user=actor, account=mine, is_decision_maker=True)
    assert grantable_roles(actor, theirs) == frozenset()
    with pytest.raises(RoleRuleViolation):
        check_role_change(actor, theirs, frozenset(), frozenset({Role.TECHNICAL_CONTACT}))


@pytest.mark.parametrize(("before", "after", "allowed"), [
    (set(), {Role.TECHNICAL_CONTACT, Role.EMERGENCY_CONTACT, Role.PHONE_MANAGER}, True),
    (set(), {Role.DECISION_MAKER}, False),
    (set(), {Role.BILLING_CONTACT}, False),
    ({Role.DECISION_MAKER}, set(), False),
    ({Role.BILLING_CONTACT, Role.TECHNICAL_CONTACT}, {Role.BILLING_CONTACT}, True),  # untouched
    ({Role.PHONE_MANAGER}, set(), True),
])
def test_what_a_phone_manager_may_change(before, after, allowed):
    account = MitelAccountFactory()
    actor = UserFactory()
    MembershipFactory(user=actor, account=account, is_phone_manager=True)
    if allowed:
        check_role_change(actor, account, frozenset(before), frozenset(after))
    else:
        with pytest.raises(RoleRuleViolation):
            check_role_change(actor, account, frozenset(before), frozenset(after))


@pytest.mark.parametrize(("role", "abilities"), [
    ("is_decision_maker", set(Ability)),
    ("is_phone_manager", set(Ability)),
    ("is_technical_contact", {Ability.VIEW_ACCOUNT, Ability.VIEW_USERS, Ability.VIEW_SSO}),
    ("is_billing_contact", {Ability.VIEW_ACCOUNT}),
    ("is_emergency_contact", {Ability.VIEW_ACCOUNT}),
])
def test_what_each_role_lets_a_contact_see_and_do(role, abilities):
    account = MitelAccountFactory()
    MitelAccountFactory()  # another account, which no role reaches
    contact = UserFactory()
    MembershipFactory(user=contact, account=account, **{role: True})
    for ability in Ability:
        visible = set(accounts_visible_to(contact, ability))
        assert visible == ({account} if ability in abilities else set()), ability
