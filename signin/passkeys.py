"""Passkeys in the sign-in flow: "Sign in with a passkey" on the username screen (with the browser's
passkey autofill), and a passkey in place of a code at the MFA step.

``static/js/passkey-signin.js`` runs the ceremony in the browser and posts here, as JSON; these
views answer as django-otp-webauthn's own views do (``redirect_url`` on success, ``detail`` on
refusal), and use its ceremonies (``accounts.services.passkeys``), but never log anyone in: a
passkey moves the flow on through its transitions, and the controller finishes it as any other
sign-in (SECURITY.md 49).
"""

import json

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST

from accounts.models import AuditEvent, User
from accounts.services import audit, lockouts, passkeys

from .controller import StepRunner, advance, current_step, signin_context
from .flow import SigninFlow
from .steps.code import CodeStep
from .steps.username import UsernameStep, begin_from_link

SSO_ONLY = ("Your Mitel account signs in with Single Sign On only, so a passkey can't sign you in. "
            "Type your username and choose Next to sign in with Single Sign On.")
MOVED_ON = "This sign-in has moved on. Reload the page."


def refused(message: str, status: int = 403) -> JsonResponse:
    return JsonResponse({"detail": message, "code": "refused"}, status=status)


def locked(locks) -> JsonResponse:
    ends = [lock.ends_at for lock in locks if lock.ends_at is not None]
    until = (f" until {date_format(timezone.localtime(max(ends)), 'H:i')} UTC" if ends else "")
    return refused(f"Too many failed attempts: signing in is locked{until}. Reset your password, "
                   "or ask an Authorized Contact or Mitel support to unlock you.", status=429)


def answer(request: HttpRequest) -> dict:
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


# --- "Sign in with a passkey" on the username screen ---------------------------------------------

@never_cache
@csrf_protect
@require_POST
def begin(request: HttpRequest) -> JsonResponse:
    """Options for any discoverable passkey: the same for every visitor, whatever username they
    may type (SECURITY.md 1): no username is asked, and no passkey is listed."""
    return JsonResponse(passkeys.begin_authentication(request))


@never_cache
@csrf_protect
@require_POST
def complete(request: HttpRequest) -> JsonResponse:
    """The passkey named and proved the user: a new flow from the page's link goes on from there."""
    data = answer(request)
    owner = passkeys.owner_of(data)
    flow, _ = begin_from_link(request)
    request.signin_context = {**signin_context(flow), "method": "passkey"}
    # Counted before it is checked, against the passkey's owner (or, for a passkey nobody has,
    # against the address alone), like a code (SECURITY.md 49).
    try:
        attempt = lockouts.begin(request, owner.username if owner else "")
    except lockouts.LockedOut as lock:
        return locked(lock.locks)
    try:
        device = passkeys.verify(request, data, application=flow.application)
    except passkeys.PasskeyRefused as error:
        attempt.failed()
        return locked(attempt.started) if attempt.started else refused(str(error))
    attempt.succeeded()
    user = device.user
    if not passkey_sign_in_allowed(user):
        audit.record(AuditEvent.Kind.SIGN_IN_FAILED, request=request, user=user, method="passkey",
                     application=flow.application, reason="sso_only")
        return refused(SSO_ONLY)
    flow.proved_with_passkey(user, device.persistent_id, named_at=UsernameStep.name)
    return moved_on(advance(flow), device)


def passkey_sign_in_allowed(user: User) -> bool:
    """A passkey stands for Mitel's own sign-in: not for people whose every account takes Single
    Sign On only (their identity provider decides)."""
    accounts = [membership.account for membership in user.memberships.select_related("account")]
    return not accounts or any(account.password_allowed for account in accounts)


# --- a passkey in place of a code (the MFA step) ---------------------------------------------------

def at_code_step(request: HttpRequest) -> SigninFlow | None:
    flow = SigninFlow.load(request)
    if flow is None or not isinstance(current_step(flow), CodeStep):
        return None
    return flow


@never_cache
@csrf_protect
@require_POST
def code_begin(request: HttpRequest) -> JsonResponse:
    flow = at_code_step(request)
    if flow is None:
        return refused(MOVED_ON, status=409)
    return JsonResponse(passkeys.begin_authentication(request, flow.user))


@never_cache
@csrf_protect
@require_POST
def code_complete(request: HttpRequest) -> JsonResponse:
    """Only a passkey of the flow's own user is accepted; failures count like wrong codes."""
    flow = at_code_step(request)
    if flow is None:
        return refused(MOVED_ON, status=409)
    request.signin_context = signin_context(flow)
    try:
        attempt = lockouts.begin(request, flow.username)
    except lockouts.LockedOut as lock:
        return locked(lock.locks)
    try:
        device = passkeys.verify(request, answer(request), user=flow.user, account=flow.account,
                                 application=flow.application)
    except passkeys.PasskeyRefused as error:
        attempt.failed()
        return locked(attempt.started) if attempt.started else refused(str(error))
    attempt.succeeded()
    runner = StepRunner(flow, current_step(flow))  # the MFA step, asked before the flow moves on
    flow.verified_second_factor(device.persistent_id)
    return moved_on(runner.done(), device)


def moved_on(response, device) -> JsonResponse:
    """The library's script follows ``redirect_url``: where the flow stands now."""
    return JsonResponse({"id": device.pk, "redirect_url": response["Location"]})
