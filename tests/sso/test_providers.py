"""Identity providers are modules of sso/providers/: a third one is one module, and everything asks it."""

import pytest
from django.core.exceptions import ValidationError

from accounts.models import AuditEvent, MitelAccount
from accounts.services.domains import claim_domain, mark_verified
from sso import providers
from sso.models import LinkedIdentity, SsoConnection
from sso.providers import ClaimsMapping, ConnectionField, Provider
from sso.services.connections import save_connection
from tests.factories import MembershipFactory, MitelAccountFactory, UserFactory

from .oidc import Provider as OidcProvider
from .oidc import (
    authorize,
    come_back,
    deny,
    enter_username,
    press_single_sign_on,
    signed_in_user_id,
    stay_signed_in,
)

pytestmark = pytest.mark.django_db

WILE_SUB = "acme-0001-wile"


class AcmeId(Provider):
    """A third identity provider, as its module under sso/providers/ would hold it."""

    key = "acme"
    name = "Acme ID"
    claims = ClaimsMapping(username=("acme_login",))  # a claim no other provider reads
    fields = (
        ConnectionField("issuer_url", "Acme tenant URL", help_text="e.g. https://example.acme.example"),
        ConnectionField("client_id", "Acme client ID"),
        ConnectionField("client_secret", "Acme client secret"),
    )
    redirect_help = "In the Acme console, add this callback URL: {uri}"


@pytest.fixture
def acme():
    """Acme ID, registered as sso.providers registers its modules, and a real OpenID provider for it."""
    provider = providers.register(AcmeId())
    server = OidcProvider()
    yield server
    providers.unregister(provider)
    server.stop()


@pytest.fixture
def wile(acme):
    # MitelAccountFactory saves without full_clean; "acme" is a valid choice anyway while registered.
    account = MitelAccountFactory(name="Acme Corp", account_number="700001", authentication="acme")
    save_connection(SsoConnection(account=account, issuer_url=acme.issuer, client_id="acme-client",
                                  client_secret="acme-secret"))
    mark_verified(claim_domain(account, "acme.example"), method="staff")
    user = UserFactory(username="wile@acme.example")
    MembershipFactory(user=user, account=account)
    # preferred_username names somebody else: only Acme's own mapping (acme_login) signs wile in.
    acme.add_user(WILE_SUB, acme_login="Wile@Acme.example", preferred_username="road.runner@acme.example")
    return user


def test_a_third_provider_registered_from_one_module_signs_in_end_to_end(client, acme, wile):
    enter_username(client, "wile@acme.example")
    page = client.get("/signin/authenticate/").content.decode()
    assert "Acme ID" in page and 'value="sso"' in page

    to_provider = press_single_sign_on(client)
    assert to_provider.startswith(f"{acme.issuer}/oauth2/authorize?")
    back = come_back(client, authorize(to_provider, WILE_SUB))
    assert back.status_code == 302 and back["Location"] == "/signin/stay/"
    done = stay_signed_in(client)
    assert done["Location"] == "/me/" and signed_in_user_id(client) == wile.pk
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.SIGN_IN)
    assert (event.user, event.method) == (wile, "acme")
    assert LinkedIdentity.objects.filter(user=wile, issuer=acme.issuer, subject=WILE_SUB).exists()


def test_the_refusal_pages_name_the_third_provider(client, acme, wile):
    enter_username(client, "wile@acme.example")
    response = come_back(client, deny(press_single_sign_on(client)))
    assert "You did not finish signing in to Acme ID" in response.content.decode()
    assert signed_in_user_id(client) is None


def test_the_third_provider_is_a_choice_of_mitel_account_with_its_name(acme):
    account = MitelAccount(account_number="700002", name="Acme Two", authentication="acme")
    account.full_clean()
    assert account.get_authentication_display() == "Acme ID" and account.sso_enabled


def test_every_sso_choice_has_a_provider_module_and_every_provider_a_choice():
    sso_values = {value for value in MitelAccount.Authentication} - {MitelAccount.Authentication.MITEL}
    assert sso_values == {provider.key for provider in providers.all()}
    field = MitelAccount._meta.get_field("authentication")
    assert dict(field.choices) == {"mitel": "Mitel authentication", "azure_ad": "Microsoft Entra ID",
                                   "okta": "Okta"}


def test_only_a_beta_provider_waits_for_the_accounts_beta_flag():
    assert [provider.key for provider in providers.all() if provider.beta] == ["okta"]
    assert not MitelAccount(authentication="okta", okta_beta=False).sso_enabled
    assert MitelAccount(authentication="okta", okta_beta=True).sso_enabled
    assert MitelAccount(authentication="azure_ad").sso_enabled
    assert not MitelAccount(authentication="mitel").sso_enabled


def test_an_unknown_provider_is_an_error_and_a_key_is_taken_once(acme):
    with pytest.raises(LookupError):
        providers.get("mitel")
    with pytest.raises(ValueError, match="acme"):
        providers.register(AcmeId())


@pytest.mark.parametrize(("issuer", "tenant", "error_on"), [
    ("http://127.0.0.1:9400", "", None),  # a test provider on this machine needs no tenant
    ("https://localhost:9400", "", None),
    ("https://login.microsoftonline.com/common/v2.0", "", "issuer_url"),  # any tenant: never
    ("https://evil.example", "72f988bf-86f1-41af-91ab-2d7cd011db47", "issuer_url"),
    ("", "72f988bf-86f1-41af-91ab-2d7cd011db47", None),
])
def test_an_entra_issuer_comes_from_the_tenant_unless_a_local_test_provider(issuer, tenant, error_on):
    account = MitelAccountFactory(authentication=MitelAccount.Authentication.AZURE_AD)
    connection = SsoConnection(account=account, issuer_url=issuer, tenant_id=tenant, client_id="a")
    if error_on is None:
        save_connection(connection)
        assert connection.issuer == (issuer or f"https://login.microsoftonline.com/{tenant}/v2.0")
    else:
        with pytest.raises(ValidationError) as refused:
            save_connection(connection)
        assert set(refused.value.message_dict) == {error_on}
