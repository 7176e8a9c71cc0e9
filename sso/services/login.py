"""Single Sign On for the sign-in flow: going to the account's identity provider and coming back.

``start_login`` runs on the SSO step's button; ``complete_login`` runs when allauth has a verified
answer (``sso.adapter``); ``provider_error`` when it has none. SAML connections start and come back
through ``sso.services.saml_login``; both protocols end in ``conclude``, the one place that decides.
Every refusal renders a page in the portal's look and writes an audit event. Nobody is signed in
here: the flow records the proof and ``signin.controller.finish`` signs in, as for passwords.

``start_test`` sends a contact setting Single Sign On up through the same provider redirect; its
answer comes back through the same callback and the same ID-token checks (``sso.oidc``), then
ends at the set-up page (``sso.services.setup.record_test``) without signing in or linking anyone.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.base.constants import AuthError, AuthProcess
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from django.core.exceptions import MultipleObjectsReturned
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from requests import RequestException

from accounts.models import AuditEvent, MitelAccount
from accounts.services import audit, domains, lockouts
from signin import resume

from .. import providers
from ..claims import SsoIdentity, identity_from_claims
from ..models import SsoConnection
from ..oidc import TokenRejected
from . import setup
from .identities import IdentityConflict, link_identity

if TYPE_CHECKING:
    from signin.controller import PausedFlow


@dataclass(frozen=True)
class Refusal:
    """What the person sees, and what the audit trail records, when SSO does not sign them in."""

    status: int
    title: str
    message: str
    what_to_do: str
    kind: str = AuditEvent.Kind.SSO_ERROR
    retry: bool = True  # offer to try Single Sign On again


CONTACT = "an Authorized Contact of your company's Mitel account"

REFUSALS: dict[str, Refusal] = {
    "mismatch": Refusal(
        403, _("Your company account does not match your Mitel username"),
        _("You signed in to {idp} as {enterprise_username}, but you are signing in to Mitel as "
        "{username}. They must be the same."),
        f"Sign in to {{idp}} with the account for {{username}}, or ask {CONTACT} to correct your "
        "Mitel username.",
        kind=AuditEvent.Kind.SSO_MISMATCH,
    ),
    "identity_conflict": Refusal(
        403, _("Your company account is linked to another Mitel sign-in"),
        _("The {idp} account you signed in with is not the one linked to {username}."),
        f"Sign in to {{idp}} with the account you usually use for Mitel, or ask {CONTACT} for help.",
        kind=AuditEvent.Kind.SSO_MISMATCH,
    ),
    "locked_out": Refusal(
        403, _("Your sign-in is locked"),
        _("There have been too many unsuccessful sign-in attempts for {username}, so signing in is "
        "locked for now, Single Sign On included."),
        f"Try again later, or ask {CONTACT}, or Mitel support, to unlock it.",
        kind=AuditEvent.Kind.SIGN_IN_FAILED, retry=False,
    ),
    "domain_not_verified": Refusal(
        403, _("{idp} cannot sign in this username"),
        _("{username} is not under a domain verified for {account}, so its {idp} does not speak for it."),
        f"Sign in another way, or ask {CONTACT} to verify your company's domain in the Connect Portal.",
        kind=AuditEvent.Kind.SSO_MISMATCH, retry=False,
    ),
    "inactive": Refusal(
        403, _("Your Mitel user is deactivated"),
        _("{username} can no longer sign in to Mitel."),
        f"If you think this is a mistake, contact {CONTACT}.",
        kind=AuditEvent.Kind.SIGN_IN_FAILED, retry=False,
    ),
    "cancelled": Refusal(
        403, _("You did not finish signing in to {idp}"),
        _("{idp} says the sign-in was cancelled or consent was not given."),
        f"Try again and accept at {{idp}}. If your company does not allow Mitel, contact {CONTACT}.",
    ),
    "provider_error": Refusal(
        502, _("{idp} could not sign you in"),
        _("{idp} answered with an error ({error})."),
        f"Try again in a few minutes. If it keeps happening, tell {CONTACT}: the Single Sign On "
        "settings may need attention.",
    ),
    "unreachable": Refusal(
        502, _("We could not reach {idp}"),
        _("Your company's sign-in service did not answer, or its settings could not be read."),
        f"Try again in a few minutes. If it keeps happening, tell {CONTACT}: the Single Sign On "
        "settings may need attention.",
    ),
    "invalid_response": Refusal(
        400, _("We could not verify the answer from {idp}"),
        _("For your security you have not been signed in: the answer did not pass our checks."),
        f"Try again. If it keeps happening, tell {CONTACT}.",
    ),
    "expired": Refusal(
        400, _("This sign-in has expired"),
        _("The answer from your company's sign-in service belongs to a sign-in that has expired, "
        "was already used, or was started in another browser."),
        "Start signing in again.",
        retry=False,
    ),
    "wrong_flow": Refusal(
        400, _("This sign-in was started for something else"),
        _("The answer from your company's sign-in service does not belong to the sign-in in progress "
        "in this browser."),
        "Start signing in again.",
        retry=False,
    ),
    "not_configured": Refusal(
        503, _("Single Sign On is not set up for this account yet"),
        _("{account} has no working Single Sign On connection."),
        f"Ask {CONTACT} to set it up, or sign in with your password if your account allows it.",
        retry=False,
    ),
}


def idp_name(account: MitelAccount | None) -> str:
    provider = providers.find(account.authentication) if account is not None else None
    return provider.name if provider else "your company's sign-in service"


def refuse(request: HttpRequest, reason: str, *, flow: PausedFlow | None,
           account: MitelAccount | None, enterprise_username: str = "", username: str = "",
           **detail: Any) -> HttpResponse:
    """Record the refusal and render its page (``username``: the Mitel username, where no flow is known)."""
    refusal = REFUSALS[reason]
    account = account or (flow.account if flow else None)
    user = flow.user if flow else None
    audit.record(
        refusal.kind,
        request=request,
        user=user,
        account=account,
        application=flow.application if flow else None,
        username=flow.username if flow else username,
        method=account.authentication if account else "",
        reason=reason,
        **({"enterprise_username": enterprise_username} if enterprise_username else {}),
        **{key: str(value)[:300] for key, value in detail.items()},
    )
    words = {
        "idp": idp_name(account),
        "username": flow.username if flow and flow.username else "your Mitel username",
        "enterprise_username": enterprise_username or "an account without a username",
        "account": account.name if account else "This account",
        "error": str(detail.get("error", "unknown"))[:64],
    }
    context = {
        "flow": flow,
        "reason": reason,
        "title": refusal.title.format(**words),
        "message": refusal.message.format(**words),
        "what_to_do": refusal.what_to_do.format(**words),
        "retry": refusal.retry and flow is not None,
    }
    return TemplateResponse(request, "sso/refused.html", context, status=refusal.status)


# --- going to the identity provider ----------------------------------------------------------

def start_login(request: HttpRequest) -> HttpResponse:
    """Send the user to the account's identity provider, with ``login_hint``, PKCE and a nonce.

    Runs on the Single Sign On button of the sign-in flow, which must be waiting for it.
    """
    flow = resume(request)
    if flow is None or not hmac.compare_digest(request.POST.get("flow", ""), flow.flow_id):
        return HttpResponseRedirect(flow.url if flow else reverse("signin:signin"))
    account = flow.account
    if account is None or not flow.waiting_for_sso(account.pk):
        return HttpResponseRedirect(flow.url)
    connection = SsoConnection.objects.filter(account=account).first()
    if connection is None or not connection.is_ready:
        return refuse(request, "not_configured", flow=flow, account=account)
    if connection.is_saml:
        from .saml_login import start_saml_login

        return start_saml_login(request, flow, connection)
    try:
        provider = get_adapter(request).get_provider(request, connection.provider_id)
    except (SocialApp.DoesNotExist, MultipleObjectsReturned):
        return refuse(request, "not_configured", flow=flow, account=account)
    nonce = secrets.token_urlsafe(32)
    auth_params = {**provider.get_auth_params(), "login_hint": flow.username, "nonce": nonce}
    try:
        return provider.redirect(
            request,
            process=AuthProcess.LOGIN,
            next_url=flow.url,
            data={"flow_id": flow.flow_id, "nonce": nonce},
            auth_params=auth_params,
        )
    except (RequestException, OAuth2Error, KeyError, ValueError) as exc:
        return refuse(request, "unreachable", flow=flow, account=account, error=exc)


TEST = "test"  # the ``purpose`` in the login state of a "Test connection" sign-in


def start_test(request: HttpRequest, connection: SsoConnection, *, return_url: str) -> HttpResponse:
    """"Test connection": a real sign-in by the contact at the connection's provider, ending at
    ``return_url`` (the set-up page) with what came back. The caller checks who may test."""
    if connection.social_app_id is None:
        setup.record_test_failure(request, connection, "unreachable", "no saved settings")
        return HttpResponseRedirect(return_url)
    setup.begin_test(request, connection, return_url=return_url)
    try:
        provider = get_adapter(request).get_provider(request, connection.provider_id)
    except (SocialApp.DoesNotExist, MultipleObjectsReturned):
        setup.record_test_failure(request, connection, "unreachable", "no saved settings")
        return HttpResponseRedirect(return_url)
    nonce = secrets.token_urlsafe(32)
    auth_params = {**provider.get_auth_params(), "login_hint": request.user.username, "nonce": nonce}
    try:
        return provider.redirect(request, process=AuthProcess.LOGIN, next_url=return_url,
                                 data={"purpose": TEST, "nonce": nonce}, auth_params=auth_params)
    except (RequestException, OAuth2Error, KeyError, ValueError) as exc:
        setup.record_test_failure(request, connection, "unreachable", type(exc).__name__)
        return HttpResponseRedirect(return_url)


def _nonce_matches(id_token: dict, state: dict) -> bool:
    expected = str(state.get("nonce") or "")
    return bool(expected) and hmac.compare_digest(str(id_token.get("nonce", "")), expected)


def complete_test(request: HttpRequest, sociallogin, connection: SsoConnection | None) -> HttpResponse:
    """The provider's verified answer to "Test connection": show it on the set-up page."""
    pending = setup.pending_test(request, connection)
    if pending is None:
        return refuse(request, "expired", flow=None, account=connection.account if connection else None,
                      check="test")
    id_token = sociallogin.account.extra_data.get("id_token") or {}
    userinfo = sociallogin.account.extra_data.get("userinfo") or {}
    if not _nonce_matches(id_token, sociallogin.state.get("data") or {}):
        setup.record_test_failure(request, connection, "invalid_response", "nonce")
    else:
        identity = identity_from_claims(connection.provider.key, id_token=id_token, userinfo=userinfo)
        setup.record_test(request, connection, pending, identity=identity, id_token=id_token,
                          userinfo=userinfo)
    return HttpResponseRedirect(pending["return_url"])


# --- coming back ------------------------------------------------------------------------------

def complete_login(request: HttpRequest, sociallogin) -> HttpResponse:
    """allauth verified the provider's answer: apply our rules, then go on with the flow."""
    app = sociallogin.provider.app
    connection = SsoConnection.objects.select_related("account").filter(social_app=app).first()
    account = connection.account if connection else None
    state = sociallogin.state.get("data") or {}
    if state.get("purpose") == TEST:
        return complete_test(request, sociallogin, connection)
    flow = resume(request)
    # The answer must belong to this browser's flow, waiting at this account's SSO step: a code
    # from another account's provider cannot complete this sign-in (SECURITY.md 21).
    if (connection is None or flow is None or not state.get("flow_id")
            or not hmac.compare_digest(str(state["flow_id"]), flow.flow_id)
            or not flow.waiting_for_sso(connection.account_id)):
        return refuse(request, "wrong_flow", flow=flow, account=account, provider=app.provider_id)
    id_token = sociallogin.account.extra_data.get("id_token") or {}
    userinfo = sociallogin.account.extra_data.get("userinfo") or {}
    if not _nonce_matches(id_token, state):
        return refuse(request, "invalid_response", flow=flow, account=account, check="nonce")
    identity = identity_from_claims(account.authentication, id_token=id_token, userinfo=userinfo)
    return conclude(request, flow, account, identity)


def conclude(request: HttpRequest, flow: PausedFlow, account: MitelAccount,
             identity: SsoIdentity) -> HttpResponse:
    """The identity provider of ``account`` vouched for ``identity`` in this browser's ``flow``: the
    rules every protocol shares decide whether that proves the flow's user (SECURITY.md 11, 19-21, 43).

    The identity's username must be the flow's Mitel username, under a domain verified for the
    account; the user active and not locked out; the identity linked to this user only.
    """
    detail = {"issuer": identity.issuer, "subject": identity.subject}
    user = flow.user
    if user is None or not identity.username or identity.username != flow.username:
        return refuse(request, "mismatch", flow=flow, account=account,
                      enterprise_username=identity.username, **detail)
    if not domains.is_verified_for(account, flow.username):  # checked at Next, and again now
        return refuse(request, "domain_not_verified", flow=flow, account=account, **detail)
    if not user.is_active:
        return refuse(request, "inactive", flow=flow, account=account, **detail)
    if lockouts.is_locked(request, flow.username):
        return refuse(request, "locked_out", flow=flow, account=account, **detail)
    try:
        link_identity(user, identity)
    except IdentityConflict as conflict:
        return refuse(request, "identity_conflict", flow=flow, account=account,
                      enterprise_username=identity.username, conflict=conflict.reason, **detail)
    return flow.proved_by_sso(user, method=account.authentication)


def provider_error(request: HttpRequest, provider, *, error: str | None, exception: Exception | None,
                   extra_context: dict) -> HttpResponse:
    """allauth has no verified answer: say what happened and what to do."""
    app = getattr(provider, "app", None)
    connection = SsoConnection.objects.select_related("account").filter(social_app=app).first() \
        if app is not None and app.pk else None
    account = connection.account if connection else None
    state = (extra_context.get("state") or {}).get("data") or {}
    pending = setup.pending_test(request, connection)
    if pending is not None and (state.get("purpose") == TEST or "state" not in extra_context):
        return _test_failed(request, connection, pending, error=error, exception=exception,
                            extra_context=extra_context)
    flow = resume(request)
    if exception is not None:
        if isinstance(exception, RequestException):
            return refuse(request, "unreachable", flow=flow, account=account, error=exception)
        check = exception.reason if isinstance(exception, TokenRejected) else type(exception).__name__
        return refuse(request, "invalid_response", flow=flow, account=account, check=check,
                      error=exception)
    if error == AuthError.CANCELLED:
        return refuse(request, "cancelled", flow=flow, account=account)
    if "state" not in extra_context:
        # Missing, altered, expired or already used ``state`` (SECURITY.md 17).
        return refuse(request, "expired", flow=flow, account=account, check="state")
    code = request.GET.get("error", "")
    safe_code = "".join(c for c in code if c.isalnum() or c in "_-.")[:64] or "unknown"
    return refuse(request, "provider_error", flow=flow, account=account, error=safe_code,
                  description=request.GET.get("error_description", ""))


def _test_failed(request: HttpRequest, connection: SsoConnection, pending: dict, *, error: str | None,
                 exception: Exception | None, extra_context: dict) -> HttpResponse:
    """"Test connection" ended without a verified answer: back to the set-up page, saying why."""
    if exception is not None:
        if isinstance(exception, RequestException):
            reason, detail = "unreachable", type(exception).__name__
        elif isinstance(exception, TokenRejected):
            reason, detail = "invalid_response", exception.reason
        else:
            reason, detail = "provider_error", str(exception)
    elif error == AuthError.CANCELLED:
        reason, detail = "cancelled", ""
    elif "state" not in extra_context:
        reason, detail = "expired", ""
    else:
        reason, detail = "provider_error", request.GET.get("error", "") or "unknown"
    setup.record_test_failure(request, connection, reason, detail)
    return HttpResponseRedirect(pending["return_url"])
