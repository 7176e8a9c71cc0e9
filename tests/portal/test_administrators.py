"""Mitel administrators (superusers) manage everything, through the same audited, locked paths."""

import pytest

from accounts.models import AuditEvent, User
from tests.factories import MembershipFactory, MitelAccountFactory, UserFactory
from tests.portal.conftest import open_portal_as
from tests.portal.forms import admin_form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(db) -> User:
    return UserFactory(username="admin@mitel.example", superuser=True)


def test_an_administrator_makes_a_user_staff_and_the_change_is_audited(client, admin):
    bob = UserFactory(username="bob@multi.example", first_name="Bob")
    for name in ["Acme Dental", "Globex Partners"]:
        MembershipFactory(user=bob, account=MitelAccountFactory(name=name))
    open_portal_as(client, admin)
    url = f"/admin/accounts/user/{bob.pk}/change/"
    page = client.get(url)
    assert "is_staff" in page.context["adminform"].form.fields
    assert client.post(url, admin_form_data(page, is_staff=True, first_name="Robert")).status_code == 302
    bob.refresh_from_db()
    assert bob.is_staff and bob.first_name == "Robert" and bob.version == 2
    events = AuditEvent.objects.filter(kind=AuditEvent.Kind.USER_CHANGED, user=bob)
    assert {event.account.name for event in events} == {"Acme Dental", "Globex Partners"}
    assert events[0].detail["changes"] == {"first_name": ["Bob", "Robert"], "is_staff": [False, True]}


def test_an_administrator_adds_a_mitel_staff_user_without_an_account(client, admin):
    open_portal_as(client, admin)
    page = client.get("/admin/accounts/user/add/")
    response = client.post("/admin/accounts/user/add/", admin_form_data(
        page, username="eng@mitel.example", is_staff=True))
    assert response.status_code == 302, [e for e in response.context["errors"]]
    assert User.objects.get(username="eng@mitel.example").is_staff


def test_nobody_edits_or_deletes_the_audit_trail(client, admin):
    event = AuditEvent.objects.create(kind=AuditEvent.Kind.SIGN_IN, user=UserFactory())
    open_portal_as(client, admin)
    assert client.get(f"/admin/accounts/auditevent/{event.pk}/change/").status_code == 200
    assert client.post(f"/admin/accounts/auditevent/{event.pk}/change/", {"kind": "x"}).status_code == 403
    assert client.post(f"/admin/accounts/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/accounts/auditevent/add/").status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk, kind="sign_in").exists()
