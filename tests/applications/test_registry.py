"""One registry: Mitel staff register an application and its OpenID Connect client in the portal."""

import re

import pytest
from django.contrib.auth.hashers import check_password

from accounts.models import Application
from tests.signin import open_portal_as

FORM = {
    "name": "Mitel Billing", "slug": "mitel-billing", "home_url": "https://billing.mitel.example/",
    "redirect_urls": "", "account_picker": "before", "client_type": "confidential",
    "skip_authorization": "on", "redirect_uris": "https://billing.mitel.example/oidc/callback",
    "post_logout_redirect_uris": "", "backchannel_logout_uri": "",
}


def shown_secret(response) -> str:
    match = re.search(r'<code id="client-secret">([^<]+)</code>', response.content.decode())
    assert match, response.content.decode()[:2000]
    return match.group(1)


@pytest.mark.django_db
def test_the_secret_is_shown_once_after_adding_and_stored_hashed(client, demo):
    open_portal_as(client, demo["admin@mitel.example"])
    response = client.post("/admin/accounts/application/add/", FORM)
    assert response.status_code == 200 and "no-cache" in response["Cache-Control"]
    secret = shown_secret(response)
    app = Application.objects.get(slug="mitel-billing")
    assert app.client_secret != secret and check_password(secret, app.client_secret)
    assert app.client_id in response.content.decode()

    page = client.get(f"/admin/accounts/application/{app.pk}/change/").content.decode()
    assert secret not in page and app.client_secret not in page and app.client_id in page


@pytest.mark.django_db
def test_a_new_secret_replaces_the_old_one(client, demo):
    open_portal_as(client, demo["admin@mitel.example"])
    first = shown_secret(client.post("/admin/accounts/application/add/", FORM))
    app = Application.objects.get(slug="mitel-billing")
    response = client.post(f"/admin/accounts/application/{app.pk}/change/", {**FORM, "new_secret": "on"})
    second = shown_secret(response)
    app.refresh_from_db()
    assert second != first and check_password(second, app.client_secret)
    assert not check_password(first, app.client_secret)
    # Saving without asking for one keeps the secret, and shows none.
    response = client.post(f"/admin/accounts/application/{app.pk}/change/", FORM)
    assert response.status_code == 302
    app.refresh_from_db()
    assert check_password(second, app.client_secret)


@pytest.mark.django_db
def test_support_staff_without_the_permission_cannot_register_applications(client, demo):
    open_portal_as(client, demo["support@mitel.example"])
    assert client.post("/admin/accounts/application/add/", FORM).status_code == 403
    assert not Application.objects.filter(slug="mitel-billing").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("uri", ["http://billing.mitel.example/logout", "https://127.0.0.1/logout",
                                 "https://169.254.169.254/latest/meta-data/", "https://10.0.0.7/bcl"])
def test_a_back_channel_logout_uri_must_be_https_to_a_public_address(client, demo, settings, uri):
    settings.SSO_ALLOW_LOOPBACK_ISSUERS = False  # production
    open_portal_as(client, demo["admin@mitel.example"])
    response = client.post("/admin/accounts/application/add/", {**FORM, "backchannel_logout_uri": uri})
    assert response.status_code == 200
    assert "The back-channel logout URI must" in response.content.decode()
    assert not Application.objects.filter(slug="mitel-billing").exists()


@pytest.mark.django_db
def test_a_public_https_back_channel_logout_uri_is_accepted(client, demo, settings):
    settings.SSO_ALLOW_LOOPBACK_ISSUERS = False
    open_portal_as(client, demo["admin@mitel.example"])
    client.post("/admin/accounts/application/add/",
                {**FORM, "backchannel_logout_uri": "https://93.184.215.14/oidc/logout"})
    assert Application.objects.get(slug="mitel-billing").backchannel_logout_uri == (
        "https://93.184.215.14/oidc/logout")
