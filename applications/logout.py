"""Sign-out reaches the applications: the session's refresh tokens die, and they are told.

The logout token is POSTed through ``sso.outbound``'s guarded session, like every call to an
identity provider: only to public addresses over https (SECURITY.md 45 and 48), so a logout URI on
loopback, the private network or the cloud metadata address is never contacted.
"""

import json
import logging
import time
import uuid

import requests
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from jwcrypto import jwt
from oauth2_provider.models import get_refresh_token_model
from oauth2_provider.settings import oauth2_settings

from sso.outbound import guard

from .models import ApplicationSignIn

logger = logging.getLogger(__name__)

BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
# Seconds to connect and to read: a slow or dead application delays a sign-out this long at most.
BACKCHANNEL_TIMEOUT = (2, 3)


def end_application_sessions(request: HttpRequest, sid: str) -> None:
    """Sign-out: revoke the refresh tokens issued under session ``sid``; tell each application."""
    if sid:
        end_signins(ApplicationSignIn.objects.filter(sid=sid), request=request)


def end_signins(signins, *, request: HttpRequest | None = None) -> None:
    """Revoke the refresh tokens of ``signins`` now; once the change commits, a task sends one
    back-channel logout token per application and session, so no sign-out waits for them. The
    issuer is the request's (``oidc_issuer``), or without one ``issuer_outside_requests()``."""
    signins = list(signins.select_related("application"))
    RefreshToken = get_refresh_token_model()
    for signin in signins:
        RefreshToken.revoke_family(signin.token_family)
    told, to_tell = set(), []
    for signin in signins:
        key = (signin.application_id, signin.sid)
        if signin.application.backchannel_logout_uri and key not in told:
            told.add(key)
            to_tell.append(signin.pk)
    if to_tell:
        from .tasks import send_logout_tokens

        issuer = oauth2_settings.oidc_issuer(request) if request is not None else issuer_outside_requests()
        transaction.on_commit(lambda: send_logout_tokens.enqueue(to_tell, issuer))


def issuer_outside_requests() -> str:
    """The issuer when no request says it (sessions ended by someone else, or a task): the
    configured public URL (``PUBLIC_URL``; with ``DEBUG`` and none set, http://127.0.0.1:8000)."""
    return oauth2_settings.OIDC_ISS_ENDPOINT or settings.PUBLIC_URL


def logout_token(issuer: str, signin: ApplicationSignIn, *, now: float | None = None) -> str:
    """An OpenID Connect Back-Channel Logout token, signed like the ID tokens (RS256, ``kid``)."""
    now = int(now if now is not None else time.time())
    application = signin.application
    key = application.jwk_key
    token = jwt.JWT(
        header=json.dumps({"typ": "logout+jwt", "alg": "RS256", "kid": key.thumbprint()}),
        claims=json.dumps({
            "iss": issuer,
            "aud": application.client_id,
            "iat": now,
            "exp": now + 120,
            "jti": str(uuid.uuid4()),
            "sub": str(signin.user.sub),
            "sid": signin.sid,
            "events": {BACKCHANNEL_LOGOUT_EVENT: {}},
        }),
    )
    token.make_signed_token(key)
    return token.serialize()


def send_logout_token(issuer: str, signin: ApplicationSignIn) -> bool:
    """POST the token; an application that fails is logged, never allowed to stop the sign-out."""
    uri = signin.application.backchannel_logout_uri
    try:
        with guard(requests.Session()) as session:
            response = session.post(uri, data={"logout_token": logout_token(issuer, signin)},
                                    timeout=BACKCHANNEL_TIMEOUT, allow_redirects=False)
    except requests.RequestException as error:
        logger.warning("Back-channel logout to %s failed: %s", uri, error)
        return False
    if not response.ok:
        logger.warning("Back-channel logout to %s answered %s", uri, response.status_code)
    return response.ok
