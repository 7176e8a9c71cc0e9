"""/me/, Personal Information: the signed-in user's own details and nothing of anyone else's."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditEvent, User
from tests.factories import (
    ApplicationFactory,
    MembershipFactory,
    MitelAccountFactory,
    TOTPDeviceFactory,
    UserFactory,
)
from tests.portal.conftest import open_portal_as, text_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def bob(db) -> User:
    """A user of two accounts."""
    bob = UserFactory(username="bob@multi.example", first_name="Bob", last_name="Baker")
    MembershipFactory(user=bob, account__name="Acme Dental")
    MembershipFactory(user=bob, account__name="Globex Partners", account__account_number="100002")
    return bob


def test_personal_information_needs_a_signed_in_user(client):
    response = client.get("/me/")
    assert response.status_code == 302 and response["Location"] == "/signin/?next=/me/"


def test_personal_information_shows_the_users_details_accounts_roles_and_links(client, bob):
    bob.last_login = timezone.now() - timedelta(hours=2)
    bob.save()
    open_portal_as(client, bob)
    page = text_of(client.get("/me/"))
    assert "bob@multi.example" in page
    assert "Your username is managed by an Authorized Contact" in page
    assert "Bob Baker" in page
    assert "Acme Dental" in page and "Globex Partners" in page and "100002" in page
    assert bob.last_login.strftime("%Y") in page
    assert 'href="/password/change/"' in page and 'href="/me/mfa/setup/"' in page
    assert "Open the Connect Portal" not in page


def test_personal_information_lists_the_roles_of_an_authorized_contact_and_opens_the_portal(client):
    open_portal_as(client, MembershipFactory(decision_maker=True).user)
    page = text_of(client.get("/me/"))
    assert "Decision Maker" in page and "Open the Connect Portal" in page


def test_recent_sign_in_activity_is_the_users_own(client, bob):
    alice = MembershipFactory().user
    portal = ApplicationFactory(slug="connect-portal", name="Mitel Connect Portal")
    AuditEvent.objects.create(kind=AuditEvent.Kind.SIGN_IN, user=alice, application=portal,
                              ip_address="192.0.2.10")
    AuditEvent.objects.create(kind=AuditEvent.Kind.SIGN_IN_FAILED, user=alice, ip_address="192.0.2.11")
    AuditEvent.objects.create(kind=AuditEvent.Kind.SIGN_IN, user=bob, ip_address="192.0.2.99")
    AuditEvent.objects.create(kind=AuditEvent.Kind.USERNAME_CHANGED, user=alice, detail={"old": "x"})
    open_portal_as(client, alice)
    page = text_of(client.get("/me/"))
    assert "192.0.2.10" in page and "Mitel Connect Portal" in page
    assert "192.0.2.11" in page and "Sign-in failed" in page
    assert "192.0.2.99" not in page and "Username changed" not in page


def test_an_sso_only_user_is_not_offered_a_password_change(client):
    frank = MembershipFactory(user__sso_only=True, account=MitelAccountFactory(okta=True)).user
    open_portal_as(client, frank)
    page = text_of(client.get("/me/"))
    assert "/password/change/" not in page and "Single Sign On" in page


def test_a_session_without_its_second_factor_does_not_open_personal_information(client):
    device = TOTPDeviceFactory(user=MembershipFactory().user)
    open_portal_as(client, device.user)
    assert client.get("/me/")["Location"] == "/signin/?next=/me/"
    open_portal_as(client, device.user, otp_device=device)
    page = text_of(client.get("/me/"))
    assert "Multi-factor authentication is on" in page
