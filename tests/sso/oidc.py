"""A real OpenID Connect provider (oidc-provider-mock) on 127.0.0.1, and helpers that sign in through it.

Each provider is a real HTTP server in a thread: discovery, authorization, token, userinfo and JWKS
endpoints, RS256-signed ID tokens with the ``nonce`` it was sent. Two knobs make it behave like a
given identity provider, or like a broken or hostile one:

- ``userinfo_claims``: the only claims its userinfo endpoint returns. Entra ID's userinfo has no
  ``preferred_username`` (it is in the ID token only), so the Contoso provider returns only what
  Entra's does.
- ``edit_id_token``: a function that rewrites the ID token the token endpoint issues, given its
  header, its claims and the provider's own signing key (to re-sign altered claims validly).
"""

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import flask
import jwt
import oidc_provider_mock
import requests

from tests.loopback import serve

ENTRA_USERINFO_CLAIMS = frozenset({"sub", "name", "family_name", "given_name", "picture", "email"})

ERIN_SUB = "3sxBr1Jq0pOq6Xfs2S4-erin"
FRANK_SUB = "00u1frank4initech"


@dataclass
class IdToken:
    header: dict
    claims: dict
    provider_key: object  # the provider's RSA private key (cryptography)

    def signed(self, claims: dict | None = None, *, key=None, headers: dict | None = None,
               algorithm: str = "RS256") -> str:
        """The token with ``claims`` (default: its own), signed with ``key`` (default: the provider's)."""
        return jwt.encode(claims if claims is not None else self.claims,
                          key if key is not None else self.provider_key,
                          algorithm=algorithm,
                          headers={"kid": self.header["kid"], **(headers or {})})


class Provider:
    """One oidc-provider-mock server on 127.0.0.1, on a free port."""

    def __init__(self, *, userinfo_claims: frozenset[str] | None = None) -> None:
        self.userinfo_claims = userinfo_claims
        self.edit_id_token: Callable[[IdToken], str] | None = None
        self.app = oidc_provider_mock.app(require_nonce=True)
        self.app.after_request(self._shape_response)
        self.server, self.thread = serve(self.app)

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def add_user(self, sub: str, **claims) -> None:
        """Create or replace the user ``sub`` and the claims the provider asserts for it."""
        requests.put(f"{self.issuer}/users/{sub}", json=claims, timeout=5).raise_for_status()

    def reset(self) -> None:
        self.edit_id_token = None

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(5)

    def _shape_response(self, response: flask.Response) -> flask.Response:
        path = flask.request.path
        if path == "/userinfo" and self.userinfo_claims is not None and response.status_code == 200:
            claims = response.get_json()
            response.set_data(flask.json.dumps(
                {key: value for key, value in claims.items() if key in self.userinfo_claims}))
        if path == "/oauth2/token" and self.edit_id_token is not None and response.status_code == 200:
            body = response.get_json()
            raw = body["id_token"]
            token = IdToken(
                header=jwt.get_unverified_header(raw),
                claims=jwt.decode(raw, options={"verify_signature": False}),
                provider_key=flask.g.oidc_provider_mock_storage.jwk.private_key,
            )
            body["id_token"] = self.edit_id_token(token)
            response.set_data(flask.json.dumps(body))
        return response


# --- helpers that read as intent -------------------------------------------------------------

from tests.signin import flow_id  # noqa: E402


def enter_username(client, username: str, query: str = "") -> None:
    """Open /signin/ (with ``query``) and answer the username with Next."""
    client.get(f"/signin/{query}")
    response = client.post(f"/signin/{query}", {"username": username, "flow": ""})
    assert response.status_code == 302, response.content


def press_single_sign_on(client) -> str:
    """Press the Single Sign On button; returns where it sends the browser (the provider)."""
    response = client.post("/sso/start/", {"flow": flow_id(client)})
    assert response.status_code == 302, response.content
    return response["Location"]


def authorize(authorize_url: str, sub: str, **changes) -> str:
    """Sign in at the provider as ``sub`` (a real HTTP request); returns its redirect back to us.

    ``changes`` alter the authorization request's query first (e.g. another ``nonce``).
    """
    url = authorize_url
    if changes:
        parts = urlsplit(authorize_url)
        query = {key: values[0] for key, values in parse_qs(parts.query).items()} | changes
        url, params = f"{parts.scheme}://{parts.netloc}{parts.path}", query
    else:
        params = None
    response = requests.post(url, params=params, data={"sub": sub}, allow_redirects=False, timeout=5)
    assert response.status_code == 302, response.text
    return response.headers["Location"]


def deny(authorize_url: str) -> str:
    """Refuse consent at the provider; returns its redirect back to us."""
    response = requests.post(authorize_url, data={"action": "deny"}, allow_redirects=False, timeout=5)
    assert response.status_code == 302, response.text
    return response.headers["Location"]


def come_back(client, redirect_url: str):
    """Follow the provider's redirect to our callback with the test client."""
    parts = urlsplit(redirect_url)
    assert parts.netloc == "testserver", redirect_url
    return client.get(parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()})


def sign_in_with_sso(client, username: str, sub: str, *, query: str = ""):
    """Username, Next, Single Sign On, the provider as ``sub``, back: the callback's response."""
    enter_username(client, username, query)
    return come_back(client, authorize(press_single_sign_on(client), sub))


def stay_signed_in(client):
    return client.post("/signin/stay/", {"flow": flow_id(client), "stay": "yes"})


def signed_in_user_id(client) -> int | None:
    value = client.session.get("_auth_user_id")
    return int(value) if value is not None else None
