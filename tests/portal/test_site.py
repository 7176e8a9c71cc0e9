"""The Connect Portal as a site: who gets in, through which door, and what the dashboard shows."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Membership
from tests.factories import MembershipFactory, UserFactory
from tests.portal.conftest import open_portal_as, text_of

pytestmark = pytest.mark.django_db


def signin_redirect(response) -> dict:
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == "/signin/"
    return {key: values[0] for key, values in parse_qs(location.query).items()}


def test_the_admin_has_no_password_form_of_its_own_and_sends_people_to_sign_in(client):
    first = client.get("/admin/accounts/user/?q=ann")
    assert first.status_code == 302 and first["Location"].startswith("/admin/login/")
    query = signin_redirect(client.get(first["Location"]))
    assert query == {"app": "connect-portal", "next": "/admin/accounts/user/?q=ann"}


def test_posting_credentials_to_the_admin_login_signs_nobody_in(client, two_accounts):
    from tests.factories import PASSWORD

    response = client.post("/admin/login/?next=/admin/",
                           {"username": two_accounts.ann.username, "password": PASSWORD})
    assert signin_redirect(response)["next"] == "/admin/"
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("wanted", ["//evil.example/admin/", "https://evil.example/admin/",
                                    "/me/", "javascript:alert(1)", "/admin\\..\\x"])
def test_the_admin_login_only_passes_on_admin_addresses_of_this_site(client, wanted):
    query = signin_redirect(client.get("/admin/login/", {"next": wanted}))
    assert query["next"] == ("/admin/" if not wanted.startswith("/admin/") else wanted)


def test_a_user_without_a_contact_role_is_told_the_portal_is_not_for_them(client, two_accounts):
    open_portal_as(client, two_accounts.amy)
    response = client.get("/admin/", follow=True)
    assert response.status_code == 403
    assert "No access to the Connect Portal" in text_of(response)


def test_every_authorized_contact_role_opens_the_portal(client, two_accounts):
    billing = UserFactory(username="bill@alpha.example")
    MembershipFactory(user=billing, account=two_accounts.a, is_billing_contact=True)
    open_portal_as(client, billing)
    response = client.get("/admin/")
    assert response.status_code == 200
    page = text_of(response)
    assert "Alpha Dental" in page and "Billing Contact" in page
    assert "/admin/accounts/user/" not in page  # a Billing Contact does not manage users


def test_an_inactive_contact_is_refused(client, two_accounts):
    two_accounts.ann.is_active = False
    two_accounts.ann.save()
    client.force_login(two_accounts.ann)
    assert client.get("/admin/").status_code == 302


def test_losing_the_last_role_ends_access_on_the_next_request(client, two_accounts):
    open_portal_as(client, two_accounts.ann)
    assert client.get("/admin/accounts/user/").status_code == 200
    Membership.objects.filter(user=two_accounts.ann).update(is_decision_maker=False)
    assert client.get("/admin/accounts/user/").status_code == 302
    assert client.get(f"/admin/accounts/user/{two_accounts.amy.pk}/change/").status_code == 302


def test_a_contact_with_an_authenticator_must_have_given_its_code(client, two_accounts):
    device = TOTPDevice.objects.create(user=two_accounts.ann, name="phone", confirmed=True)
    open_portal_as(client, two_accounts.ann)
    first = client.get("/admin/")
    assert first.status_code == 302
    assert signin_redirect(client.get(first["Location"]))["next"] == "/admin/"
    open_portal_as(client, two_accounts.ann, otp_device=device)
    assert client.get("/admin/").status_code == 200


def test_the_dashboard_lists_the_contacts_accounts_roles_and_pages(client, two_accounts):
    open_portal_as(client, two_accounts.ann)
    page = text_of(client.get("/admin/"))
    assert "Mitel Connect Portal" in page and "css/admin.css" in page
    assert "Alpha Dental" in page and "Decision Maker" in page
    assert "/admin/accounts/user/?account=808080" in page
    assert "/admin/sso/ssoconnection/setup/808080/" in page  # the guided Single Sign On set-up
    assert "/admin/accounts/auditevent/?account=808080" in page
    assert "bravo" not in page.lower()


def test_the_portal_pages_carry_no_inline_style_or_script(client, two_accounts):
    open_portal_as(client, two_accounts.ann)
    for url in ["/admin/", "/admin/accounts/user/", f"/admin/accounts/user/{two_accounts.amy.pk}/change/",
                "/admin/sso/ssoconnection/setup/808080/"]:
        response = client.get(url)
        assert "unsafe-inline" not in response["Content-Security-Policy"]
        page = text_of(response)
        assert not re.search(r"<style|\sstyle=|\son[a-z]+=", page), url
        for script in re.findall(r"<script[^>]*>", page):
            assert "src=" in script or 'type="application/json"' in script, script


def test_password_change_in_the_admin_goes_to_the_sign_in_services_form(client, two_accounts):
    open_portal_as(client, two_accounts.ann)
    assert client.get("/admin/password_change/")["Location"] == "/password/change/"


def test_view_on_site_looks_nothing_up(client, two_accounts):
    from django.contrib.contenttypes.models import ContentType

    from accounts.models import User

    open_portal_as(client, two_accounts.ann)
    content_type = ContentType.objects.get_for_model(User)
    assert client.get(f"/admin/r/{content_type.pk}/{two_accounts.bea.pk}/").status_code == 404
