"""Mitel support in the Connect Portal: find anyone, unlock, reset MFA, read the audit trail, and
never see an SSO client secret."""

import pytest
from django.contrib.auth.models import Group
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AuditEvent, LockoutCounter, User
from accounts.services.lockouts import lockout_of
from sso.models import SsoConnection
from tests.portal.conftest import open_portal_as, text_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def support(client, demo):
    open_portal_as(client, demo["support@mitel.example"])
    return demo["support@mitel.example"]


def test_the_support_staff_group_comes_with_its_permissions_from_a_migration(db):
    group = Group.objects.get(name="Support staff")
    assert set(group.permissions.values_list("content_type__app_label", "codename")) == {
        ("accounts", "view_user"), ("accounts", "view_mitelaccount"), ("accounts", "view_membership"),
        ("accounts", "view_auditevent"), ("accounts", "unlock_user"), ("accounts", "reset_user_mfa"),
        ("accounts", "send_password_reset"), ("sso", "view_ssoconnection"),
        ("sso", "view_linkedidentity"), ("sso", "delete_linkedidentity"),
    }


def test_supports_unlock_clears_mallorys_lockout_and_writes_the_audit_event(client, demo, support):
    mallory = demo["mallory@acme.example"]
    assert lockout_of(mallory).locked
    listed = client.get("/admin/accounts/user/", {"locked_out": "yes"})
    assert [user.username for user in listed.context["cl"].result_list] == ["mallory@acme.example"]
    response = client.post("/admin/accounts/user/", {
        "action": "unlock_users", "index": "0", "_selected_action": [mallory.pk]}, follow=True)
    assert "Unlocked mallory@acme.example" in text_of(response)
    assert not LockoutCounter.objects.filter(username="mallory@acme.example").exists()
    assert lockout_of(mallory) is None
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.UNLOCKED)
    assert (event.user, event.actor, event.account.name) == (mallory, support, "Acme Dental")
    assert event.detail == {"failures": 5}


def test_support_sees_the_lockout_on_the_users_page_and_unlocks_with_its_button(client, demo, support):
    mallory = demo["mallory@acme.example"]
    url = f"/admin/accounts/user/{mallory.pk}/change/"
    page = text_of(client.get(url))
    assert "Locked out" in page and "203.0.113.66" in page and "Unlock mallory@acme.example" in page
    response = client.post(url, {"CHANGE_FORM-action": "unlock_users", "_selected_action": mallory.pk})
    assert response.status_code == 302 and response["Location"] == url
    assert lockout_of(mallory) is None
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.UNLOCKED, user=mallory).count() == 1


@pytest.mark.parametrize(("term", "found"), [
    ("bob", {"bob@multi.example"}),
    ("100002", {"bob@multi.example"}),  # Globex's account number
    ("GLOBEX", {"bob@multi.example"}),
    ("Initech", {"frank@initech.example"}),
    ("Garcia", {"grace@acme.example"}),
])
def test_support_finds_any_user_by_username_name_or_account(client, support, term, found):
    response = client.get("/admin/accounts/user/", {"q": term})
    assert {user.username for user in response.context["cl"].result_list} == found


def test_support_finds_any_account(client, support):
    response = client.get("/admin/accounts/mitelaccount/", {"q": "contoso"})
    assert [account.name for account in response.context["cl"].result_list] == ["Contoso Ltd"]
    assert client.get("/admin/accounts/mitelaccount/").context["cl"].result_count == 4


def test_support_reads_the_audit_trail_of_every_account_filtered_by_account_user_kind_and_date(
    client, demo, support
):
    AuditEvent.objects.create(kind=AuditEvent.Kind.SIGN_IN, user=demo["bob@multi.example"],
                              account=demo["bob@multi.example"].memberships.last().account)
    AuditEvent.objects.create(kind=AuditEvent.Kind.SIGN_IN_FAILED, username="nobody@nowhere.example")
    everything = client.get("/admin/accounts/auditevent/")
    assert everything.context["cl"].result_count == AuditEvent.objects.count() >= 2
    by_account = client.get("/admin/accounts/auditevent/", {"account": "GLOBEX"})
    assert [e.user.username for e in by_account.context["cl"].result_list] == ["bob@multi.example"]
    by_user = client.get("/admin/accounts/auditevent/", {"username": "Nobody@NOWHERE.example"})
    assert by_user.context["cl"].result_count == 1
    by_kind = client.get("/admin/accounts/auditevent/",
                         {"kind__exact": "sign_in_failed", "created_at__gte": "2000-01-01"})
    assert by_kind.context["cl"].result_count == 1


def test_support_changes_no_user_and_adds_none(client, demo, support):
    alice = demo["alice@acme.example"]
    url = f"/admin/accounts/user/{alice.pk}/change/"
    assert client.post(url, {"username": "x@y.example"}).status_code == 403
    assert client.get("/admin/accounts/user/add/").status_code == 403
    assert User.objects.get(pk=alice.pk).username == "alice@acme.example"


def test_support_never_sees_an_sso_client_secret(client, demo, support):
    connection = SsoConnection.objects.get(account__account_number="100003")
    secret = connection.client_secret
    pages = ["/admin/sso/ssoconnection/", f"/admin/sso/ssoconnection/{connection.pk}/change/",
             f"/admin/sso/ssoconnection/{connection.pk}/history/", "/admin/accounts/auditevent/",
             "/admin/socialaccount/socialaccount/", "/admin/"]
    for url in pages:
        response = client.get(url)
        assert response.status_code in (200, 403), url
        assert secret not in text_of(response), url
    searched = client.get("/admin/sso/ssoconnection/", {"q": secret})
    assert searched.context["cl"].result_count == 0
    oracle = client.get("/admin/sso/ssoconnection/", {"client_secret__startswith": "c"})
    assert oracle.status_code in (302, 400)
    assert client.get("/admin/socialaccount/socialapp/").status_code == 404  # not in the portal at all


def test_support_resets_mfa_after_confirming_and_the_user_is_told(
    client, demo, support, mailoutbox, django_capture_on_commit_callbacks
):
    trent = demo["trent@acme.example"]
    StaticDevice.objects.create(user=trent, name="backup codes", confirmed=True)
    url = f"/admin/accounts/user/{trent.pk}/change/"
    assert "Multi-factor authentication: on (2 devices)." in text_of(client.get(url))
    asked = client.post(url, {"CHANGE_FORM-action": "reset_mfa", "_selected_action": trent.pk})
    assert asked.status_code == 200 and "Reset multi-factor authentication?" in text_of(asked)
    assert TOTPDevice.objects.filter(user=trent).exists()
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(url, {"CHANGE_FORM-action": "reset_mfa", "_selected_action": trent.pk,
                                 "confirm": "yes"})
    assert done.status_code == 302
    assert not TOTPDevice.objects.filter(user=trent).exists()
    assert not StaticDevice.objects.filter(user=trent).exists()
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.MFA_RESET)
    assert (event.user, event.actor, event.detail["devices"]) == (trent, support, 2)
    [mail] = mailoutbox
    assert mail.to == ["trent@acme.example"] and "multi-factor authentication" in mail.subject
    assert "trent@acme.example" in mail.body
    assert mail.alternatives[0].mimetype == "text/html"


def test_contacts_cannot_reset_mfa(client, demo):
    grace, trent = demo["grace@acme.example"], demo["trent@acme.example"]
    open_portal_as(client, grace)
    url = f"/admin/accounts/user/{trent.pk}/change/"
    assert "Reset MFA" not in text_of(client.get(url))
    client.post(url, {"CHANGE_FORM-action": "reset_mfa", "_selected_action": trent.pk, "confirm": "yes"})
    client.post("/admin/accounts/user/", {"action": "reset_mfa", "index": "0", "confirm": "yes",
                                          "_selected_action": [trent.pk]})
    assert TOTPDevice.objects.filter(user=trent).exists()


def test_support_sends_a_password_reset_that_reaches_the_stored_address(
    client, demo, support, mailoutbox, django_capture_on_commit_callbacks
):
    alice = demo["alice@acme.example"]
    url = f"/admin/accounts/user/{alice.pk}/change/"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"CHANGE_FORM-action": "send_password_resets",
                                     "_selected_action": alice.pk}, follow=True)
    assert "Sent a password reset e-mail to alice@acme.example." in text_of(response)
    assert [message.to for message in mailoutbox] == [["alice@acme.example"]]
    assert "/password/reset/" in mailoutbox[0].body
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.PASSWORD_RESET_REQUESTED)
    assert (event.user, event.actor) == (alice, support)


def test_a_contact_sends_resets_only_to_users_they_manage(
    client, demo, mailoutbox, django_capture_on_commit_callbacks
):
    open_portal_as(client, demo["grace@acme.example"])  # Decision Maker of Acme Dental
    erin = demo["erin@contoso.example"]  # Contoso's, not hers
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/admin/accounts/user/", {
            "action": "send_password_resets", "index": "0",
            "_selected_action": [demo["alice@acme.example"].pk, erin.pk]})
    assert [message.to for message in mailoutbox] == [["alice@acme.example"]]


def test_support_reads_a_users_page_with_no_read_only_reason(client, demo, support):
    page = client.get(f"/admin/accounts/user/{demo['alice@acme.example'].pk}/change/")
    assert page.status_code == 200 and "alice@acme.example" in text_of(page)
    assert 'id="read-only-reason"' not in text_of(page)
