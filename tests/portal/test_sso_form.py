"""The SSO connection form asks the account's identity provider which fields to show and check."""

import pytest

from sso.models import SsoConnection
from tests.factories import MembershipFactory, MitelAccountFactory
from tests.portal.conftest import open_portal_as, text_of
from tests.portal.forms import admin_form_data

pytestmark = pytest.mark.django_db

ADD = "/admin/sso/ssoconnection/add/"


def change_url(connection: SsoConnection) -> str:
    return f"/admin/sso/ssoconnection/{connection.pk}/change/"


SAML = ["saml_metadata_url", "saml_metadata_file", "saml_username_attribute"]


def form_fields(page) -> list[str]:
    return list(page.context["adminform"].form.fields)


@pytest.fixture
def okta_account(two_accounts):
    """An Okta account without a connection yet, of which Ann is the Decision Maker."""
    # Still taking passwords while its contact sets Single Sign On up (SECURITY.md 43).
    account = MitelAccountFactory(name="Alpha Labs", account_number="818181", authentication="okta",
                                  okta_beta=True, allow_password_sign_in=True)
    MembershipFactory(user=two_accounts.ann, account=account, is_decision_maker=True)
    return account


def test_an_entra_form_with_a_test_issuer_needs_no_tenant_id(client, two_accounts):
    t = two_accounts
    SsoConnection.objects.filter(pk=t.a_connection.pk).update(issuer_url="http://127.0.0.1:9400")
    open_portal_as(client, t.ann)
    page = client.get(change_url(t.a_connection))
    assert form_fields(page) == ["protocol", "tenant_id", "issuer_url", "client_id", "new_client_secret",
                                 *SAML]
    response = client.post(change_url(t.a_connection), admin_form_data(page, tenant_id=""))
    assert response.status_code == 302, text_of(response)
    connection = SsoConnection.objects.get(pk=t.a_connection.pk)
    assert (connection.tenant_id, connection.issuer) == ("", "http://127.0.0.1:9400")


def test_an_entra_form_without_a_test_issuer_asks_for_the_tenant_and_says_which(client, two_accounts):
    t = two_accounts
    open_portal_as(client, t.ann)
    page = client.get(change_url(t.a_connection))
    assert form_fields(page) == ["protocol", "tenant_id", "client_id", "new_client_secret", *SAML]
    assert "Directory (tenant) ID" in text_of(page) and "Application (client) ID" in text_of(page)
    response = client.post(change_url(t.a_connection), admin_form_data(page, tenant_id="common"))
    assert response.status_code == 200
    assert "Enter the Directory (tenant) ID from Microsoft Entra ID" in text_of(response)


def test_an_okta_form_shows_no_tenant_field(client, two_accounts, okta_account):
    open_portal_as(client, two_accounts.ann)
    page = client.get(f"{ADD}?account={okta_account.pk}")
    assert form_fields(page) == ["account", "protocol", "issuer_url", "client_id", "new_client_secret",
                                 *SAML]
    assert "tenant" not in text_of(page).lower()
    assert "Okta org or authorization server URL" in text_of(page)
    missing = client.post(ADD, admin_form_data(page, client_id="labs", new_client_secret="s"))
    assert missing.status_code == 200 and "This field is required." in text_of(missing)
    done = client.post(ADD, admin_form_data(page, issuer_url="https://alpha.okta.example", client_id="labs",
                                            new_client_secret="s"))
    assert done.status_code == 302
    assert SsoConnection.objects.get(account=okta_account).issuer == "https://alpha.okta.example"


def test_the_form_help_shows_the_full_redirect_uri_to_register(client, two_accounts, okta_account):
    open_portal_as(client, two_accounts.ann)
    entra = text_of(client.get(change_url(two_accounts.a_connection)))
    assert "In Microsoft Entra ID" in entra and "http://testserver/sso/mitel-808080/callback/" in entra
    okta = text_of(client.get(f"{ADD}?account={okta_account.pk}"))
    assert "In Okta" in okta and "http://testserver/sso/mitel-818181/callback/" in okta


def test_adding_with_several_accounts_to_connect_asks_for_the_account_first(client, two_accounts,
                                                                            okta_account):
    other = MitelAccountFactory(name="Alpha Clinic", account_number="828282", authentication="azure_ad",
                                allow_password_sign_in=True)
    MembershipFactory(user=two_accounts.ann, account=other, is_decision_maker=True)
    open_portal_as(client, two_accounts.ann)
    page = client.get(ADD)
    assert form_fields(page) == ["account"]
    chosen = client.post(ADD, admin_form_data(page, account=str(other.pk)))
    assert chosen.status_code == 200
    assert form_fields(chosen) == ["account", "protocol", "tenant_id", "client_id", "new_client_secret",
                                   *SAML]
    assert not SsoConnection.objects.filter(account=other).exists()


def test_the_dashboard_links_an_unconnected_account_to_its_guided_set_up(client, two_accounts, okta_account):
    open_portal_as(client, two_accounts.ann)
    assert f"/admin/sso/ssoconnection/setup/{okta_account.account_number}/" in text_of(client.get("/admin/"))
