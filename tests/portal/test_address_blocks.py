"""Support sees every kind of lock and lifts it: blocked addresses in the Connect Portal, each lift
audited (SECURITY.md 10, 39; issue 15)."""

import pytest
from django.conf import settings
from django.test import Client

from accounts.models import AuditEvent, LockoutCounter
from tests.portal.conftest import block_address, open_portal_as, text_of
from tests.signin import fail_password, sign_in

pytestmark = pytest.mark.django_db

LIST = "/admin/accounts/addressblock/"
SPRAYER = "203.0.113.77"


def lift(client, *blocks):
    return client.post(LIST, {"action": "lift_blocks", "index": "0",
                              "_selected_action": [block.pk for block in blocks]}, follow=True)


def test_support_lifts_a_sprayers_block_and_the_address_signs_in_again(client, demo, settings):
    settings.LOCKOUT_ADDRESS_FAILURE_LIMIT = 4 * settings.LOCKOUT_FAILURE_LIMIT
    for number in range(settings.LOCKOUT_ADDRESS_FAILURE_LIMIT):
        fail_password(Client(REMOTE_ADDR=SPRAYER), f"sprayed{number}@acme.example")
    assert fail_password(Client(REMOTE_ADDR=SPRAYER), "alice@acme.example").status_code == 429

    open_portal_as(client, demo["support@mitel.example"])
    page = text_of(client.get(LIST))
    assert SPRAYER in page and "1 blocked address" in page
    block = LockoutCounter.objects.get(scope="address", key=SPRAYER)
    response = lift(client, block)
    assert f"Lifted the block on {SPRAYER}" in text_of(response)
    assert SPRAYER not in text_of(client.get(LIST))

    event = AuditEvent.objects.get(kind=AuditEvent.Kind.UNLOCKED)
    assert event.actor == demo["support@mitel.example"] and event.user is None
    assert event.detail == {"address": SPRAYER, "failures": settings.LOCKOUT_ADDRESS_FAILURE_LIMIT}
    sign_in(Client(REMOTE_ADDR=SPRAYER), "alice@acme.example")


def test_lifting_an_ended_block_says_so_and_audits_nothing(client, demo):
    block = block_address(SPRAYER)
    open_portal_as(client, demo["support@mitel.example"])
    LockoutCounter.objects.filter(pk=block.pk).update(locked_until=None)
    response = lift(client, block)
    assert response.status_code == 200
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.UNLOCKED).exists()


def test_addresses_below_their_limit_are_not_listed(client, demo):
    fail_password(Client(REMOTE_ADDR=SPRAYER), "alice@acme.example", times=2)
    open_portal_as(client, demo["support@mitel.example"])
    assert SPRAYER not in text_of(client.get(LIST))


def test_contacts_never_see_blocked_addresses(client, two_accounts):
    block_address(SPRAYER)
    open_portal_as(client, two_accounts.ann)
    assert client.get(LIST).status_code == 403
    assert "blocked address" not in text_of(client.get("/admin/")).lower()
    client.post(LIST, {"action": "lift_blocks", "index": "0",
                       "_selected_action": [LockoutCounter.objects.get(key=SPRAYER).pk]})
    assert LockoutCounter.objects.filter(key=SPRAYER).exists()


def test_support_sees_which_lock_a_user_has_on_their_page(client, demo):
    """The user's page shows the username lock and a lock of one of their browsers."""
    open_portal_as(client, demo["support@mitel.example"])
    alice = demo["alice@acme.example"]
    own = Client(REMOTE_ADDR="198.51.100.5")
    sign_in(own, "alice@acme.example")
    fail_password(own, "alice@acme.example", times=settings.LOCKOUT_FAILURE_LIMIT)
    page = text_of(client.get(f"/admin/accounts/user/{alice.pk}/change/"))
    assert "Locked out" in page and "1 browser where" in page
    assert f"Unlock {alice.username}" in page
    client.post(f"/admin/accounts/user/{alice.pk}/change/",
                {"CHANGE_FORM-action": "unlock_users", "_selected_action": alice.pk})
    assert not LockoutCounter.objects.filter(username=alice.username).exists()
    assert sign_in(own, "alice@acme.example").status_code == 302
