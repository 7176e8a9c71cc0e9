"""``may_in_account``: the Connect Portal's one answer to "may this person do this in that account"."""

import pytest
from django.contrib import admin
from django.test import RequestFactory

from accounts.models import AuditEvent
from accounts.services.memberships import Ability
from connect_portal.site import may_in_account
from tests.factories import UserFactory
from tests.portal.conftest import open_portal_as

pytestmark = pytest.mark.django_db


def request_of(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


@pytest.mark.parametrize(("who", "ability", "where", "allowed"), [
    ("ann", Ability.VIEW_AUDIT, "a", True),       # Decision Maker of A
    ("ann", Ability.VIEW_AUDIT, "b", False),
    ("ann", Ability.VIEW_AUDIT, None, True),      # None: in some account
    ("bea", Ability.VIEW_USERS, "b", True),       # Technical Contact of B
    ("bea", Ability.VIEW_AUDIT, "b", False),
    ("bea", Ability.VIEW_AUDIT, None, False),
    ("bea", Ability.MANAGE_USERS, "b", False),
    ("sam", Ability.MANAGE_USERS, "b", True),     # Decision Maker of B, plain user of A
    ("sam", Ability.MANAGE_USERS, "a", False),
    ("root", Ability.VIEW_AUDIT, "b", True),      # Mitel staff: every account
    ("root", Ability.VIEW_AUDIT, None, True),
])
def test_who_may_do_what_in_which_account(two_accounts, who, ability, where, allowed):
    t = two_accounts
    user = UserFactory(is_staff=True, is_superuser=True) if who == "root" else getattr(t, who)
    account_id = getattr(t, where).pk if where else None
    assert may_in_account(request_of(user), ability, account_id) is allowed


def test_the_answer_is_looked_up_once_per_request(two_accounts, django_assert_num_queries):
    t = two_accounts
    request = request_of(t.sam)
    assert may_in_account(request, Ability.MANAGE_USERS, t.b.pk)
    with django_assert_num_queries(0):
        assert may_in_account(request, Ability.MANAGE_USERS, t.b.pk)


def test_a_contact_opens_an_event_of_their_own_account(client, two_accounts):
    t = two_accounts
    open_portal_as(client, t.ann)
    assert client.get(f"/admin/accounts/auditevent/{t.a_event.pk}/change/").status_code == 200
    assert client.get(f"/admin/accounts/auditevent/{t.b_event.pk}/change/").status_code == 404


def test_an_event_of_no_account_is_mitel_staffs_only(two_accounts):
    t = two_accounts
    event = AuditEvent.objects.create(kind=AuditEvent.Kind.SIGN_IN_FAILED, username="nobody@example")
    audit_admin = admin.site._registry[AuditEvent]
    assert not audit_admin.has_view_permission(request_of(t.ann), event)
    root = UserFactory(is_staff=True, is_superuser=True)
    assert audit_admin.has_view_permission(request_of(root), event)
