"""SSO connections and the allauth SocialApps behind them."""

import pytest
from allauth.socialaccount.models import SocialApp
from django.contrib.sites.models import Site
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from accounts.models import MitelAccount
from sso.models import SsoConnection
from sso.services.connections import save_connection
from tests.factories import MitelAccountFactory

pytestmark = pytest.mark.django_db

TENANT = "72F988BF-86F1-41AF-91AB-2D7CD011DB47"


@pytest.fixture
def entra_account():
    return MitelAccountFactory(account_number="300001", authentication=MitelAccount.Authentication.AZURE_AD)


@pytest.fixture
def okta_account():
    return MitelAccountFactory(account_number="300002", authentication=MitelAccount.Authentication.OKTA,
                               okta_beta=True)


def test_an_entra_id_connection_is_backed_by_one_openid_connect_app_on_the_tenants_issuer(entra_account):
    connection = save_connection(SsoConnection(account=entra_account, tenant_id=TENANT,
                                               client_id="client-1", client_secret="s3cret"))
    app = SocialApp.objects.get()
    assert connection.social_app == app
    assert (app.provider, app.provider_id, app.client_id, app.secret) == (
        "openid_connect", "mitel-300001", "client-1", "s3cret")
    assert app.settings["server_url"] == f"https://login.microsoftonline.com/{TENANT.lower()}/v2.0"
    assert app.settings["oauth_pkce_enabled"] is True
    assert list(app.sites.all()) == [Site.objects.get_current()]


def test_an_okta_connection_uses_the_org_url_as_issuer(okta_account):
    save_connection(SsoConnection(account=okta_account, issuer_url="https://initech.okta.com/oauth2/default/",
                                  client_id="0oa1", client_secret="s"))
    assert SocialApp.objects.get().settings["server_url"] == "https://initech.okta.com/oauth2/default"


def test_editing_a_connection_updates_its_app_rather_than_adding_one(entra_account):
    connection = save_connection(SsoConnection(account=entra_account, tenant_id=TENANT, client_id="old"))
    connection.client_id, connection.client_secret = "new", "rotated"
    save_connection(connection)
    app = SocialApp.objects.get()
    assert (app.client_id, app.secret) == ("new", "rotated")


def test_an_app_left_behind_for_the_account_is_reused_not_duplicated(entra_account):
    save_connection(SsoConnection(account=entra_account, tenant_id=TENANT, client_id="a"))
    SsoConnection.objects.update(social_app=None)
    save_connection(SsoConnection.objects.get())
    assert SocialApp.objects.count() == 1


def test_the_connection_and_its_app_are_saved_together_or_not_at_all(entra_account):
    save_connection(SsoConnection(account=entra_account, tenant_id=TENANT, client_id="first"))
    second = SsoConnection(account=entra_account, tenant_id=TENANT, client_id="second")
    with pytest.raises(IntegrityError):
        save_connection(second)  # one connection per account: the database refuses the second
    assert SocialApp.objects.get().client_id == "first"


def test_deleting_a_connection_deletes_its_app(entra_account):
    connection = save_connection(SsoConnection(account=entra_account, tenant_id=TENANT, client_id="a"))
    connection.delete()
    assert not SocialApp.objects.exists()


@pytest.mark.parametrize("tenant", ["common", "organizations", "consumers", "contoso.onmicrosoft.com", ""])
def test_an_entra_tenant_must_be_the_directory_id(entra_account, tenant):
    with pytest.raises(ValidationError) as refused:
        save_connection(SsoConnection(account=entra_account, tenant_id=tenant, client_id="a"))
    assert "tenant_id" in refused.value.message_dict
    assert not SocialApp.objects.exists()


@pytest.mark.parametrize(("issuer", "accepted"), [
    ("https://initech.okta.com", True),
    ("http://127.0.0.1:9400", True),  # a local provider, for the demo and the tests
    ("http://localhost:9400", True),
    ("http://initech.okta.com", False),
    ("https://initech.okta.com/?next=x", False),
    ("", False),
])
def test_an_okta_issuer_must_be_https_unless_on_this_machine(okta_account, issuer, accepted):
    connection = SsoConnection(account=okta_account, issuer_url=issuer, client_id="a")
    if accepted:
        save_connection(connection)
    else:
        with pytest.raises(ValidationError):
            save_connection(connection)
    assert SocialApp.objects.exists() == accepted


def test_the_demo_accounts_have_working_sso_apps(demo):
    apps = {app.provider_id: app for app in SocialApp.objects.all()}
    assert set(apps) == {"mitel-100003", "mitel-100004"}
    assert apps["mitel-100003"].settings["server_url"] == (
        "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000003/v2.0")
    assert SsoConnection.objects.get(account__account_number="100003").social_app == apps["mitel-100003"]
