"""Fixtures of the SSO tests: real OpenID Connect providers on 127.0.0.1 (tests/sso/oidc.py)."""

import os
from types import SimpleNamespace

import pytest

from .oidc import ENTRA_USERINFO_CLAIMS, ERIN_SUB, FRANK_SUB, Provider


@pytest.fixture(scope="session")
def oidc_providers():
    """Contoso's (Entra ID-shaped), Initech's (Okta-shaped) and a third, unrelated provider."""
    os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")  # plain HTTP on loopback
    providers = SimpleNamespace(
        contoso=Provider(userinfo_claims=ENTRA_USERINFO_CLAIMS),
        initech=Provider(),
        rogue=Provider(),
    )
    yield providers
    for provider in vars(providers).values():
        provider.stop()


@pytest.fixture
def sso(demo, oidc_providers):
    """The demo data, its Contoso and Initech SSO connections pointed at the local providers,
    and erin and frank known to their company's provider."""
    from sso.models import SsoConnection
    from sso.services.connections import save_connection

    contoso, initech = oidc_providers.contoso, oidc_providers.initech
    for number, provider in (("100003", contoso), ("100004", initech)):
        connection = SsoConnection.objects.get(account__account_number=number)
        connection.issuer_url = provider.issuer
        save_connection(connection)
    # Entra ID: the UPN in preferred_username (ID token only); a mailbox that differs from it.
    contoso.add_user(ERIN_SUB, preferred_username="Erin@Contoso.example", name="Erin Evans",
                     email="erin.evans@contoso.example", oid="6d1f0c5e-erin", tid="contoso-tenant")
    # Okta: the Okta login in preferred_username, in the ID token and userinfo alike.
    initech.add_user(FRANK_SUB, preferred_username="frank@initech.example", name="Frank Fischer",
                     email="frank@initech.example", email_verified=True)
    yield SimpleNamespace(users=demo, contoso=contoso, initech=initech, rogue=oidc_providers.rogue)
    for provider in vars(oidc_providers).values():
        provider.reset()




@pytest.fixture(scope="session")
def saml_providers():
    """Real SAML identity providers (pysaml2) on 127.0.0.1: Entra ID-shaped, Okta-shaped, and a rogue."""
    from .saml_idp import IdentityProvider

    providers = SimpleNamespace(
        contoso=IdentityProvider("contoso", shape="entra"),
        initech=IdentityProvider("initech", shape="okta"),
        rogue=IdentityProvider("rogue", shape="okta"),
    )
    yield providers
    for provider in vars(providers).values():
        provider.stop()


@pytest.fixture
def saml_sso(demo, saml_providers):
    """The demo data with Contoso's and Initech's SSO connections switched to SAML, their metadata
    read from the local identity providers, and erin and frank known there."""
    from sso.models import SsoConnection
    from sso.saml import sp_metadata
    from sso.services.connections import load_saml_metadata, save_connection

    from .saml_idp import ENTRA_EMAIL, ENTRA_NAME, ENTRA_OBJECT_ID

    contoso, initech = saml_providers.contoso, saml_providers.initech
    for number, provider in (("100003", contoso), ("100004", initech)):
        connection = SsoConnection.objects.get(account__account_number=number)
        connection.protocol = SsoConnection.Protocol.SAML
        connection.saml_metadata_url = provider.metadata_url
        save_connection(load_saml_metadata(connection))
        provider.sp_metadata = [sp_metadata(connection)]
    # Entra ID ("Mitel Connect" gallery app): the UPN in .../claims/name, a pairwise persistent NameID.
    contoso.add_user("erin", name_id="AAAAAAAAAAAAAAAAAAAAAEdHz4-erin", attributes={
        ENTRA_NAME: ["Erin@Contoso.example"], ENTRA_OBJECT_ID: ["6d1f0c5e-erin"],
        ENTRA_EMAIL: ["erin.evans@contoso.example"]})
    # Okta: the Okta username, an e-mail address, as the NameID; no attributes.
    initech.add_user("frank", name_id="frank@initech.example")
    yield SimpleNamespace(users=demo, contoso=contoso, initech=initech, rogue=saml_providers.rogue)
    for provider in vars(saml_providers).values():
        provider.reset()
        provider.sp_metadata = []
