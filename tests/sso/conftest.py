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


