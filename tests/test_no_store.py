"""No page with personal data is kept by a browser or a proxy: `no-store` (SECURITY.md 47)."""

import pytest
from django.test import Client

from accounts.models import AuditEvent
from tests.signin import enter_password, enter_username, start

pytestmark = pytest.mark.django_db

PERSONAL = ["/me/", "/me/mfa/", "/me/mfa/setup/", "/me/mfa/backup-codes/", "/password/change/"]
PORTAL = ["/admin/", "/admin/accounts/user/", "/admin/accounts/user/?q=alice",
          "/admin/accounts/auditevent/", "/admin/accounts/mitelaccount/", "/admin/password_change/"]
PUBLIC = ["/signin/", "/password/forgot/", "/password/forgot/sent/", "/password/reset/MQ/bad-token/",
          "/no/such/page/"]


def assert_not_stored(client: Client, paths: list[str]) -> None:
    for path in paths:
        response = client.get(path)
        assert response.status_code in (200, 302, 404), (path, response.status_code)
        assert "no-store" in response.get("Cache-Control", ""), (path, response.get("Cache-Control"))


def test_personal_pages_are_not_stored(demo):
    client = Client()
    client.force_login(demo["alice@acme.example"])
    assert_not_stored(client, PERSONAL)


def test_connect_portal_pages_are_not_stored(demo):
    client = Client()
    admin = demo["admin@mitel.example"]
    client.force_login(admin)
    alice = demo["alice@acme.example"]
    event = AuditEvent.objects.create(kind=AuditEvent.Kind.SIGN_IN, user=alice, ip_address="192.0.2.1")
    assert_not_stored(client, [*PORTAL, f"/admin/accounts/user/{alice.pk}/change/",
                               f"/admin/accounts/auditevent/{event.pk}/change/"])


def test_sign_in_and_password_pages_are_not_stored(demo):
    client = Client()
    assert_not_stored(client, PUBLIC)
    start(client, app="connect-portal")
    enter_username(client, "alice@acme.example")
    assert_not_stored(client, ["/signin/authenticate/"])
    enter_password(client, "Mitel-demo-2026!")
    assert_not_stored(client, ["/signin/stay/"])
