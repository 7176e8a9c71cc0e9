"""A live provider with two registered applications, and an OpenID Connect client (Authlib)."""

import secrets

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, jwt
from authlib.oidc.core import CodeIDToken

from accounts.models import Application
from tests.sso.conftest import oidc_providers, sso  # noqa: F401 (SSO fixtures, for erin)

from .http import Browser

REDIRECT_URI = "https://app.mitel.example/callback"
SECRET = "a-secret-the-test-knows-" + "x" * 20


@pytest.fixture
def provider(live_server, demo):
    return live_server.url


@pytest.fixture
def confidential_app(provider) -> Application:
    """A first-party Mitel application on a server (a secret, no consent page)."""
    return Application.objects.create(
        slug="meetings-oidc", name="MiTeam Meetings", home_url="https://app.mitel.example/",
        client_type=Application.CLIENT_CONFIDENTIAL, client_secret=SECRET,
        redirect_uris=REDIRECT_URI, skip_authorization=True,
    )


@pytest.fixture
def public_app(provider) -> Application:
    """A partner's single-page application: no secret, PKCE required, a consent page."""
    return Application.objects.create(
        slug="partner-spa", name="Partner Dashboard", home_url="https://spa.partner.example/",
        client_type=Application.CLIENT_PUBLIC, redirect_uris="https://spa.partner.example/cb",
    )


class RelyingParty:
    """One application's client: Authlib's OAuth2Session with PKCE (S256) and a nonce."""

    def __init__(self, provider: str, application: Application, secret: str | None = None,
                 scope: str = "openid profile email mitel") -> None:
        self.provider = provider
        self.config = requests.get(f"{provider}/.well-known/openid-configuration", timeout=10).json()
        self.redirect_uri = application.redirect_uris.split()[0]
        self.client = OAuth2Session(application.client_id, secret, scope=scope,
                                    redirect_uri=self.redirect_uri, code_challenge_method="S256",
                                    token_endpoint_auth_method="client_secret_basic" if secret
                                    else "none")
        self.client_id = application.client_id
        self.verifier = secrets.token_urlsafe(48)
        self.nonce = secrets.token_urlsafe(16)

    def authorize_url(self, **params) -> str:
        url, self.state = self.client.create_authorization_url(
            self.config["authorization_endpoint"], code_verifier=self.verifier, nonce=self.nonce,
            **params)
        return url

    def exchange(self, callback: str) -> dict:
        assert callback.startswith(self.redirect_uri), callback
        return self.client.fetch_token(self.config["token_endpoint"], authorization_response=callback,
                                       code_verifier=self.verifier)

    def id_token_claims(self, token: dict, *, refreshed: bool = False) -> dict:
        """The ID token, its signature checked against the JWKS and its claims validated.

        One issued on a refresh carries no ``nonce`` (OpenID Connect Core 12.2): not asked for then.
        """
        jwks = JsonWebKey.import_key_set(requests.get(self.config["jwks_uri"], timeout=10).json())
        claims = jwt.decode(token["id_token"], jwks, claims_cls=CodeIDToken,
                            claims_options={"iss": {"essential": True,
                                                    "value": self.config["issuer"]}},
                            claims_params={"nonce": None if refreshed else self.nonce,
                                           "client_id": self.client_id})
        claims.validate()
        return dict(claims)


@pytest.fixture
def browser(provider) -> Browser:
    return Browser(provider)
