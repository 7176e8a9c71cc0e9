"""Single Sign On over SAML 2.0: SP-initiated, the answer posted cross-site, the flow found server-side.

1. ``start_saml_login`` (the sign-in flow's Single Sign On button) records an AuthnRequest
   (``SamlRequest``: its ID, a random ``RelayState``, the flow's ID) and sends the browser to the
   identity provider.
2. The identity provider posts its answer to ``receive_response`` (the Assertion Consumer Service).
   The post is cross-site, so the browser's ``SameSite=Lax`` session cookie is not sent with it in
   production: the request is found by the answer's ``InResponseTo`` and ``RelayState``, at this
   connection, unanswered and unexpired, and is marked answered at once (one answer per request).
   The answer is verified (``sso.saml``), its assertion ID recorded against replays, and the identity
   kept on the request behind a new random ``continue_token``. The browser is sent on (303) to
   ``continue_saml`` on our own site.
3. ``continue_saml`` is a same-site GET, so the session cookie comes with it. The flow in the session
   must be the one that sent the request; then ``login.conclude`` decides, as for OpenID Connect.

Nobody is signed in before step 3: an answer alone, without the browser whose flow asked for it,
proves nothing. A test of the connection from the Connect Portal (``start_saml_test``) takes the
same path and shows what the identity provider asserted instead of signing anyone in.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from accounts.clientip import client_ip
from accounts.models import User
from signin import resume

from .. import saml
from ..claims import SsoIdentity, identity_from_assertion
from ..models import SamlAssertion, SamlRequest, SsoConnection
from .login import conclude, refuse

if TYPE_CHECKING:
    from signin.controller import PausedFlow

REQUEST_LIFETIME = timedelta(minutes=10)  # from the button to the answer
CONTINUE_LIFETIME = timedelta(minutes=2)  # from the answer to the same-site bounce


def _client_address(request: HttpRequest) -> str:
    return client_ip(request) or ""


def _prune(now: datetime) -> None:
    SamlRequest.objects.filter(expires_at__lt=now - timedelta(hours=1)).delete()
    SamlAssertion.objects.filter(expires_at__lt=now).delete()


def _send(request: HttpRequest, connection: SsoConnection, *, purpose: str, flow_id: str = "",
          username: str = "", acting_user: User | None = None, now: datetime | None = None) -> HttpResponse:
    now = now or timezone.now()
    _prune(now)
    relay_state = secrets.token_urlsafe(32)
    request_id, location = saml.authn_request(connection, relay_state=relay_state, login_hint=username)
    SamlRequest.objects.create(
        request_id=request_id, connection=connection, purpose=purpose, relay_state=relay_state,
        flow_id=flow_id, username=username, acting_user=acting_user, created_at=now,
        expires_at=now + REQUEST_LIFETIME,
    )
    return HttpResponseRedirect(location)


def start_saml_login(request: HttpRequest, flow: PausedFlow, connection: SsoConnection) -> HttpResponse:
    """Send the flow's browser to the connection's identity provider with a new AuthnRequest."""
    return _send(request, connection, purpose=SamlRequest.Purpose.SIGN_IN, flow_id=flow.flow_id,
                 username=flow.username or "")


def start_saml_test(request: HttpRequest, connection: SsoConnection, *, acting_user: User) -> HttpResponse:
    """The Connect Portal's "Test connection" for a SAML connection: off to the identity provider.

    Whoever signs in there, nobody is signed in here: the answer is verified as a sign-in's would be
    and ``continue_saml`` shows ``acting_user`` what the identity provider asserted.
    """
    if not connection.is_saml or not connection.is_ready:
        raise ValueError("This connection has no SAML identity provider yet.")
    return _send(request, connection, purpose=SamlRequest.Purpose.TEST, acting_user=acting_user)


# --- the Assertion Consumer Service ---------------------------------------------------------------

def _refuse_answer(request: HttpRequest, connection: SsoConnection, reason: str, *,
                   record: SamlRequest | None, check: str, error: object = "") -> HttpResponse:
    """Refuse an answer at the Assertion Consumer Service, where the browser's flow is not known."""
    return refuse(request, reason, flow=None, account=connection.account,
                  username=record.username if record else "", check=check, protocol="saml",
                  **({"error": error} if error else {}))


def receive_response(request: HttpRequest, connection: SsoConnection, *,
                     now: datetime | None = None) -> HttpResponse:
    """The identity provider's posted answer: verified, then on to ``continue_saml`` (see the module)."""
    now = now or timezone.now()
    try:
        document, in_response_to = saml.decode_response(request.POST.get("SAMLResponse", ""))
    except saml.SamlRejected as rejected:
        return _refuse_answer(request, connection, "invalid_response", record=None, check=rejected.reason)
    relay_state = request.POST.get("RelayState", "")
    record = SamlRequest.objects.filter(request_id=in_response_to, connection=connection).first() \
        if in_response_to else None
    if record is None or not hmac.compare_digest(record.relay_state, relay_state):
        # Unsolicited (IdP-initiated), or an answer to a request of another connection or of nobody.
        return _refuse_answer(request, connection, "expired", record=None, check="unsolicited")
    taken = SamlRequest.objects.filter(pk=record.pk, answered_at__isnull=True, expires_at__gt=now) \
        .update(answered_at=now)
    if not taken:
        return _refuse_answer(request, connection, "expired", record=record, check="replayed_or_expired")
    try:
        answer = saml.verify_response(connection, document, request_id=record.request_id,
                                      remote_addr=_client_address(request), now=now.timestamp())
    except saml.SamlRejected as rejected:
        return _refuse_answer(request, connection, "invalid_response", record=record,
                              check=rejected.reason, error=rejected)
    try:
        with transaction.atomic():
            SamlAssertion.objects.create(
                issuer=answer.issuer, assertion_id=answer.assertion_id,
                expires_at=max(now, datetime.fromtimestamp(answer.not_on_or_after, tz=UTC))
                + timedelta(seconds=saml.CLOCK_SKEW_SECONDS))
    except IntegrityError:
        return _refuse_answer(request, connection, "expired", record=record, check="replayed_assertion")
    # The connection's provider: while Single Sign On is being set up and tested, the account
    # itself still takes passwords (``sso.services.setup``).
    provider = connection.provider
    identity = identity_from_assertion(provider.key if provider else connection.account.authentication,
                                       answer, username_attribute=connection.saml_username_attribute)
    token = secrets.token_urlsafe(32)
    SamlRequest.objects.filter(pk=record.pk).update(
        continue_token=token, result={
            "issuer": identity.issuer, "subject": identity.subject, "username": identity.username,
            "username_claim": identity.username_claim,
            "attributes": {name: values[:5] for name, values in list(answer.attributes.items())[:30]},
            "name_id": answer.name_id,
        })
    response = HttpResponseRedirect(reverse("sso:saml_continue", args=[token]))
    response.status_code = 303  # the browser follows with a GET, and the session cookie
    return response


# --- back on our own site -------------------------------------------------------------------------

def continue_saml(request: HttpRequest, token: str, *, now: datetime | None = None) -> HttpResponse:
    """The same browser, with its session: the verified identity proves its flow, or is refused."""
    now = now or timezone.now()
    record = SamlRequest.objects.select_related("connection__account").filter(
        continue_token=token, continued_at__isnull=True, answered_at__gt=now - CONTINUE_LIFETIME).first()
    taken = record is not None and SamlRequest.objects.filter(
        pk=record.pk, continued_at__isnull=True).update(continued_at=now)
    if record is not None and record.purpose == SamlRequest.Purpose.TEST:
        return _test_result(request, record) if taken else HttpResponseRedirect(reverse("admin:index"))
    flow = resume(request)
    account = record.connection.account if record else None
    if not taken or flow is None or not record.flow_id \
            or not hmac.compare_digest(record.flow_id, flow.flow_id):
        return refuse(request, "wrong_flow" if taken else "expired", flow=flow, account=account,
                      protocol="saml")
    if not flow.waiting_for_sso(record.connection.account_id):
        return refuse(request, "wrong_flow", flow=flow, account=account, protocol="saml")
    result = record.result
    identity = SsoIdentity(issuer=result["issuer"], subject=result["subject"],
                           username=result["username"], username_claim=result["username_claim"])
    if not identity.subject:
        return refuse(request, "invalid_response", flow=flow, account=account, check="no_subject")
    return conclude(request, flow, account, identity)


def _test_result(request: HttpRequest, record: SamlRequest) -> HttpResponse:
    """What a test of the connection found, shown only to the person who started it."""
    if not request.user.is_authenticated or request.user.pk != record.acting_user_id:
        return HttpResponseRedirect(reverse("admin:index"))
    result = record.result
    connection = record.connection
    context = {
        "connection": connection,
        "result": result,
        "title": gettext("The SAML connection works"),
    }
    return TemplateResponse(request, "sso/saml_test_result.html", context)
