"""allauth's OpenID Connect provider, held to the checks SECURITY.md 17-18 asks for.

allauth trusts an ID token that came straight from the token endpoint without checking its
signature (OpenID Connect Core allows it over TLS), takes the algorithm from the token's own header
and does not send or check a ``nonce``. Here every ID token is verified against the provider's
published keys with an asymmetric algorithm the key itself names; ``iss`` must be the configured
issuer, ``aud`` the client ID, ``exp`` in the future, and userinfo must describe the same ``sub``.
The ``nonce`` is checked against the login's state in ``sso.services.login``.
"""

from __future__ import annotations

from typing import Any

import jwt
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter
from django.http import HttpRequest
from django.urls import reverse

ACCEPTED_ALGORITHMS = frozenset({
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512",
})
CLOCK_SKEW_SECONDS = 60
REQUIRED_CLAIMS = ["iss", "sub", "aud", "exp", "iat"]


def callback_uri(request: HttpRequest, provider_id: str) -> str:
    """The redirect URI of an account's provider: what is sent at sign-in and what contacts register.

    The request's origin, as for every URL the portal sends to a provider; ``ALLOWED_HOSTS`` keeps
    the Host header to the site's own names.
    """
    return request.build_absolute_uri(reverse("sso:callback", args=[provider_id]))


class TokenRejected(OAuth2Error):
    """The identity provider's answer failed a check; ``reason`` names which, for the audit trail."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


class MitelOIDCAdapter(OpenIDConnectOAuth2Adapter):
    """allauth's OpenID Connect client, verifying every ID token it is given."""

    @property
    def expected_issuer(self) -> str:
        return self.get_provider().app.settings["server_url"]

    @property
    def openid_config(self) -> dict[str, Any]:
        config = super().openid_config
        # OpenID Connect Discovery 4.3: the document must name the issuer it was fetched for.
        if config.get("issuer") != self.expected_issuer:
            raise TokenRejected("discovery_issuer", f"{config.get('issuer')!r}")
        return config

    def get_callback_url(self, request: HttpRequest, app) -> str:
        return callback_uri(request, self.provider_id)

    def complete_login(self, request: HttpRequest, app, token, **kwargs):
        raw = kwargs["response"].get("id_token")
        if not raw:
            raise TokenRejected("no_id_token")
        data = {"id_token": self.verify_id_token(app, raw)}
        if app.settings.get("fetch_userinfo", True):
            userinfo = self._fetch_user_info(token.token)
            if not isinstance(userinfo, dict) or userinfo.get("sub") != data["id_token"]["sub"]:
                raise TokenRejected("userinfo_subject")
            data["userinfo"] = userinfo
        return self.get_provider().sociallogin_from_response(request, data)

    def verify_id_token(self, app, raw: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(raw)
        except jwt.PyJWTError as exc:
            raise TokenRejected("malformed_id_token", str(exc)) from exc
        algorithm, kid = header.get("alg"), header.get("kid")
        offered = set(self.openid_config.get("id_token_signing_alg_values_supported") or ["RS256"])
        if algorithm not in ACCEPTED_ALGORITHMS & offered:
            raise TokenRejected("algorithm", repr(algorithm))
        key = self._signing_key(kid, algorithm)
        try:
            claims = jwt.decode(
                raw,
                key=key,
                algorithms=[algorithm],
                audience=app.client_id,
                issuer=self.expected_issuer,
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": REQUIRED_CLAIMS, "strict_aud": False},
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenRejected("expired", str(exc)) from exc
        except jwt.InvalidIssuerError as exc:
            raise TokenRejected("issuer", str(exc)) from exc
        except jwt.InvalidAudienceError as exc:
            raise TokenRejected("audience", str(exc)) from exc
        except jwt.InvalidSignatureError as exc:
            raise TokenRejected("signature", str(exc)) from exc
        except jwt.PyJWTError as exc:
            raise TokenRejected("invalid_id_token", str(exc)) from exc
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != app.client_id:
            raise TokenRejected("audience", "several audiences and azp is not this client")
        return claims

    def _signing_key(self, kid: str | None, algorithm: str):
        if not kid:
            raise TokenRejected("unknown_key", "no kid")
        with get_adapter().get_requests_session() as session:
            response = session.get(self.openid_config["jwks_uri"])
            response.raise_for_status()
            keys = response.json().get("keys", [])
        for jwk in keys:
            if not isinstance(jwk, dict) or jwk.get("kid") != kid or jwk.get("use", "sig") != "sig":
                continue
            if jwk.get("alg", algorithm) != algorithm:
                raise TokenRejected("algorithm", f"{algorithm} does not match key {kid}")
            try:
                return jwt.PyJWK(jwk, algorithm=algorithm).key
            except jwt.PyJWTError as exc:
                raise TokenRejected("unknown_key", str(exc)) from exc
        raise TokenRejected("unknown_key", repr(kid))


class MitelOIDCProvider(OpenIDConnectProvider):
    """One Mitel account's identity provider: allauth's, with ``MitelOIDCAdapter``."""

    oauth2_adapter_class = MitelOIDCAdapter

    def get_callback_url(self) -> str:
        return reverse("sso:callback", args=[self.app.provider_id])


def is_mitel_app(app) -> bool:
    return (app is not None and app.provider == OpenIDConnectProvider.id
            and app.provider_id.startswith("mitel-"))

