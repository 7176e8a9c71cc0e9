"""The Connect Portal's home page for each role, its menu of models, and Mitel's words over Django's."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditEvent, Invitation
from accounts.services.lockouts import lockout_of
from tests.factories import UserFactory
from tests.portal.conftest import b_markers_in, lock_out, open_portal_as, text_of

pytestmark = pytest.mark.django_db

SYSTEM_MODELS = ("Sites", "Social accounts", "Email addresses", "Groups", "Access tokens")


def test_a_contacts_home_shows_their_accounts_invitations_and_sign_in_problems_and_nothing_of_b(
        client, two_accounts):
    now = timezone.now()
    Invitation.objects.create(account=two_accounts.a, user=UserFactory(username="ivy@elsewhere.example"),
                              token="a-token", expires_at=now + timedelta(days=3))
    Invitation.objects.create(account=two_accounts.b, user=UserFactory(username="ira@bravo.example"),
                              token="b-token", expires_at=now + timedelta(days=3))
    AuditEvent.objects.create(kind=AuditEvent.Kind.LOCKED_OUT, user=two_accounts.amy,
                              username=two_accounts.amy.username, account=two_accounts.a)
    AuditEvent.objects.create(kind=AuditEvent.Kind.SIGN_IN_FAILED, username="bravo-typo",
                              account=two_accounts.b)
    open_portal_as(client, two_accounts.ann)
    response = client.get("/admin/")
    page = text_of(response)
    assert "<h1>Your Mitel accounts</h1>" in page
    assert "Alpha Dental" in page and "808080" in page and "Decision Maker" in page
    assert "ivy@elsewhere.example" in page
    assert "amy@alpha.example</strong>: Locked out" in page
    assert b_markers_in(response) == []
    assert "Find a user" not in page  # the support search box is support's


def test_supports_home_is_a_search_box_and_the_people_locked_out_now(client, demo):
    open_portal_as(client, demo["support@mitel.example"])
    page = text_of(client.get("/admin/"))
    assert "<h1>Support</h1>" in page
    assert 'action="/admin/accounts/user/"' in page and 'name="q"' in page
    assert "account number or a Partner Label" in page
    assert "mallory@acme.example" in page and "Unlock mallory@acme.example" in page
    assert "alice@acme.example" not in page  # not locked out


def test_support_unlocks_from_the_home_page(client, demo):
    mallory = demo["mallory@acme.example"]
    open_portal_as(client, demo["support@mitel.example"])
    client.post(f"/admin/accounts/user/{mallory.pk}/change/",
                {"CHANGE_FORM-action": "unlock_users", "_selected_action": mallory.pk})
    assert lockout_of(mallory) is None
    assert "Nobody is locked out." in text_of(client.get("/admin/"))


def test_support_finds_mallory_by_account_number_and_sees_she_is_locked_out(client, demo):
    open_portal_as(client, demo["support@mitel.example"])
    response = client.get("/admin/accounts/user/", {"q": "100001"})
    rows = {user.username for user in response.context["cl"].result_list}
    assert "mallory@acme.example" in rows and "erin@contoso.example" not in rows
    page = text_of(response)
    assert '<td class="field-locked_out">Yes</td>' in page
    assert "icon-yes.svg" not in page and "icon-no.svg" not in page


@pytest.mark.parametrize("who", ["support@mitel.example", "grace@acme.example"])
def test_the_machinerys_tables_are_out_of_sight_for_contacts_and_support(client, demo, who):
    open_portal_as(client, demo[who])
    page = text_of(client.get("/admin/"))
    assert "System" not in page
    assert not [name for name in SYSTEM_MODELS if f">{name}<" in page]


def test_mitel_administrators_find_the_machinery_under_system(client, demo):
    open_portal_as(client, demo["admin@mitel.example"])
    page = text_of(client.get("/admin/"))
    system = page[page.index("<h3>System</h3>"):]
    assert ">Sites<" in system and ">Social accounts<" in system and ">Email addresses<" in system
    assert ">Users<" not in system and ">Applications<" not in system


def test_the_portal_speaks_mitels_words_not_djangos(client, two_accounts):
    lock_out(two_accounts.amy)
    open_portal_as(client, two_accounts.ann)
    changelist = text_of(client.get("/admin/accounts/user/"))
    assert "<h1>Users</h1>" in changelist and "Select user to change" not in changelist
    assert ">Apply<" in changelist and ">Run<" not in changelist
    assert "- Select an option -" not in changelist
    change = text_of(client.get(f"/admin/accounts/user/{two_accounts.amy.pk}/change/"))
    assert "Save and add another" not in change and "Designates" not in change
    home = text_of(client.get("/admin/"))
    assert "Recent actions" not in home and "None available" not in home
    assert 'action="/signout/"' in home and ">Sign out<" in home
    error = text_of(client.post(f"/admin/accounts/user/{two_accounts.amy.pk}/change/", {"username": ""}))
    assert "Please correct" not in error and "your attention: " in error


def test_an_accounts_password_age_help_is_plain(client, demo):
    from accounts.models import MitelAccount

    open_portal_as(client, demo["admin@mitel.example"])
    acme = MitelAccount.objects.get(account_number="100001")
    page = text_of(client.get(f"/admin/accounts/mitelaccount/{acme.pk}/change/"))
    assert "NIST" not in page and "passwords never expire" in page


def test_read_only_yes_no_fields_say_yes_or_no_too(client, demo):
    """Support reads a user's page: flags and role cells in words, not Django's ticks and crosses."""
    open_portal_as(client, demo["support@mitel.example"])
    page = text_of(client.get(f"/admin/accounts/user/{demo['grace@acme.example'].pk}/change/"))
    assert '<div class="readonly">Yes</div>' in page  # active
    assert "<p>Yes</p>" in page  # Decision Maker of Acme, in the roles table
    assert "icon-yes.svg" not in page and "icon-no.svg" not in page
