"""Passkeys (WebAuthn), on django-otp-webauthn: a django-otp device like the authenticator app.

A passkey is a second factor after the password, and, being discoverable and verifying its user
(a PIN or a biometric on the device), a way to sign in alone. The library does the WebAuthn
ceremonies (through py_webauthn); ``MitelWebAuthnHelper`` sets our rules on them: user
verification required in both ceremonies, discoverable credentials only, no attestation asked,
and a signed user handle that must name the passkey's own user. The relying party ID and origins
come from settings (``OTP_WEBAUTHN_RP_ID``, ``OTP_WEBAUTHN_ALLOWED_ORIGINS``). Sign counters and
backup state are recorded by the library at each use; a counter that goes backwards is refused.

The challenge of each ceremony is kept in the session and taken out before it is checked, so it
serves once. Callers count authentication attempts towards the lockout (as for codes).
"""

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn import exceptions as webauthn_errors
from django_otp_webauthn.helpers import WebAuthnHelper
from django_otp_webauthn.models import WebAuthnCredential, WebAuthnUserHandle
from django_otp_webauthn.utils import rewrite_exceptions
from webauthn.helpers import parse_authentication_credential_json
from webauthn.helpers.exceptions import InvalidJSONStructure
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from ..models import Application, AuditEvent, MitelAccount, User
from . import audit, notices, sessions, totp

REGISTRATION_STATE = "passkey_registration"
AUTHENTICATION_STATE = "passkey_authentication"
NAME_MAX_LENGTH = 64  # django-otp's Device.name


class PasskeyError(Exception):
    """A passkey, or a change to one, was refused; ``str(error)`` is what the user should read."""


class PasskeyRefused(PasskeyError):
    def __init__(self, message: str = "") -> None:
        super().__init__(message or _("That passkey was not accepted. Try again, or use another way to "
                                      "sign in."))


class TooManyPasskeys(PasskeyError):
    def __init__(self) -> None:
        limit = settings.PASSKEYS_MAX_PER_USER
        super().__init__(ngettext("You have %(count)d passkey, the most you can have. Remove it to add "
                                  "another.",
                                  "You have %(count)d passkeys, the most you can have. Remove one you no "
                                  "longer use to add another.", limit) % {"count": limit})


class LastSecondFactor(PasskeyError):
    def __init__(self) -> None:
        super().__init__(_("Your Mitel account requires two-step verification, and this passkey is "
                           "your only second factor: add another passkey or an authenticator app "
                           "before you remove it."))


class MitelWebAuthnHelper(WebAuthnHelper):
    """The library's ceremonies, with our rules (module docstring)."""

    def get_generate_registration_options_kwargs(self, *, user: User) -> dict:
        options = super().get_generate_registration_options_kwargs(user=user)
        options["authenticator_selection"] = AuthenticatorSelectionCriteria(
            user_verification=UserVerificationRequirement.REQUIRED,
            resident_key=ResidentKeyRequirement.REQUIRED,
        )
        return options

    def get_generate_authentication_options_kwargs(self, *, user: User | None = None,
                                                   require_user_verification: bool = True) -> dict:
        return super().get_generate_authentication_options_kwargs(
            user=user, require_user_verification=True)

    def authenticate_complete(self, user: User | None, state: dict, data: dict):
        # WebAuthn 7.2 step 6: a user handle, when the authenticator returns one, must be that of
        # the passkey's owner; the library looks the passkey up by its id alone.
        handle = parse_authentication_credential_json(data).response.user_handle
        device = super().authenticate_complete(user=user, state=state, data=data)
        if handle is not None and WebAuthnUserHandle.get_user_by_handle(handle) != device.user:
            raise webauthn_errors.CredentialUserMismatch()
        return device


def helper(request: HttpRequest) -> MitelWebAuthnHelper:
    return MitelWebAuthnHelper(request=request)


# --- what a user has -----------------------------------------------------------------------------

def passkeys_of(user: User) -> QuerySet[WebAuthnCredential]:
    return WebAuthnCredential.objects.filter(user=user, confirmed=True).order_by("created_at", "pk")


def has_passkey(user: User) -> bool:
    return WebAuthnCredential.objects.filter(user=user, confirmed=True).exists()


def with_second_factors(rows: QuerySet, user_field: str) -> QuerySet:
    """``totp.with_second_factors``, and ``has_passkey_``: every second factor of the user in
    ``user_field``, in the query that loads the user."""
    return totp.with_second_factors(rows, user_field).annotate(has_passkey_=Exists(
        WebAuthnCredential.objects.filter(user_id=OuterRef(user_field), confirmed=True)))


def has_second_factor(user: User) -> bool:
    """An authenticator app, backup codes left, or a passkey: one query (asked at every sign-in)."""
    return User.objects.filter(pk=user.pk).filter(
        Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True))
        | Exists(StaticToken.objects.filter(device__user=OuterRef("pk"), device__confirmed=True))
        | Exists(WebAuthnCredential.objects.filter(user=OuterRef("pk"), confirmed=True))
    ).exists()


def is_passkey(device) -> bool:
    return isinstance(device, WebAuthnCredential)


# --- adding, renaming, removing ------------------------------------------------------------------

def begin_registration(request: HttpRequest, user: User) -> dict:
    """The options for the browser's ``navigator.credentials.create``; the challenge stays here."""
    if passkeys_of(user).count() >= settings.PASSKEYS_MAX_PER_USER:
        raise TooManyPasskeys()
    options, state = helper(request).register_begin(user=user)
    request.session[REGISTRATION_STATE] = state
    return options


def complete_registration(request: HttpRequest, user: User, data: dict, *, name: str
                          ) -> WebAuthnCredential:
    """Check the browser's answer and keep the new passkey under ``name``.

    Audited and told to the user. A first second factor raises the bar: the user's other
    sessions, which no second factor verified, end (SECURITY.md 51). Raises ``PasskeyRefused``
    or ``TooManyPasskeys``.
    """
    state = request.session.pop(REGISTRATION_STATE, None)
    request.session.save()  # the challenge serves once, even if what follows fails
    if not state:
        raise PasskeyRefused(_("This request has expired. Start again."))
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()  # one addition at a time
        if passkeys_of(user).count() >= settings.PASSKEYS_MAX_PER_USER:
            raise TooManyPasskeys()
        first = not has_second_factor(user)
        try:
            with rewrite_exceptions():
                device = helper(request).register_complete(user=user, state=state, data=data)
        except (webauthn_errors.OTPWebAuthnApiError, InvalidJSONStructure, KeyError, TypeError,
                ValueError) as error:
            raise PasskeyRefused(_("Your browser's answer could not be checked, so the passkey was "
                                   "not added. Try again.")) from error
        device.name = clean_name(name) or _("Passkey")
        device.confirmed = True
        device.save(update_fields=["name", "confirmed"])
        ended = sessions.end_other_sessions(user, request=request, reason="mfa_enrolled") if first else 0
        audit.record_about(AuditEvent.Kind.MFA_ENROLLED, request=request, user=user, actor=user,
                           method="passkey", device="passkey", name=device.name,
                           backed_up=device.backup_state, sessions_ended=ended)
        notices.tell(user, "passkey_added", request=request, sessions_ended=ended)
    return device


def clean_name(name: str) -> str:
    return " ".join((name or "").split())[:NAME_MAX_LENGTH]


@transaction.atomic
def rename_passkey(user: User, passkey_id: int, name: str, *, request: HttpRequest | None = None
                   ) -> WebAuthnCredential:
    device = passkeys_of(user).select_for_update().get(pk=passkey_id)
    old, device.name = device.name, clean_name(name)
    if not device.name:
        raise PasskeyError(_("Give the passkey a name."))
    if device.name != old:
        device.save(update_fields=["name"])
        audit.record_about(AuditEvent.Kind.MFA_CHANGED, request=request, user=user, actor=user,
                           method="passkey", device="passkey", name=device.name, was=old)
        notices.tell(user, "passkey_renamed", request=request)
    return device


@transaction.atomic
def remove_passkey(user: User, passkey_id: int, *, request: HttpRequest | None = None) -> str:
    """Remove one of the user's passkeys (the caller asked for a fresh proof); returns its name.

    Refused when an account of the user's requires MFA and it is their last second factor.
    """
    device = passkeys_of(user).select_for_update().get(pk=passkey_id)
    others = passkeys_of(user).exclude(pk=device.pk).exists()
    if totp.mfa_required(user) and not others and not totp.has_device(user):
        raise LastSecondFactor()
    name = device.name
    device.delete()
    audit.record_about(AuditEvent.Kind.MFA_REMOVED, request=request, user=user, actor=user,
                       method="passkey", device="passkey", name=name)
    notices.tell(user, "passkey_removed", request=request)
    return name


# --- signing in ----------------------------------------------------------------------------------

def begin_authentication(request: HttpRequest, user: User | None = None) -> dict:
    """The options for ``navigator.credentials.get``: for ``user``'s passkeys (a second factor), or
    for any discoverable passkey (``user`` None: the same answer whoever is about to sign in)."""
    options, state = helper(request).authenticate_begin(user=user, require_user_verification=True)
    session = request.session
    if hasattr(session, "set_fresh"):  # the flow another request saved meanwhile is kept
        session.set_fresh(AUTHENTICATION_STATE, state)
    else:
        session[AUTHENTICATION_STATE] = state
    return options


def owner_of(data: dict) -> User | None:
    """Whose passkey the browser's answer claims to be, before anything is checked (to count the
    attempt against that username); None for an unknown or malformed one."""
    try:
        raw_id = parse_authentication_credential_json(data).raw_id
    except (InvalidJSONStructure, KeyError, TypeError, ValueError, AttributeError):
        return None
    device = (WebAuthnCredential.objects.filter(
        credential_id_sha256=WebAuthnCredential.get_credential_id_sha256(raw_id))
        .select_related("user").first())
    return device.user if device is not None else None


def verify(request: HttpRequest, data: dict, *, user: User | None = None,
           account: MitelAccount | None = None, application: Application | None = None
           ) -> WebAuthnCredential:
    """The passkey that signed this browser's answer to the session's challenge.

    With ``user`` (a second factor), only one of ``user``'s passkeys is accepted. A refusal raises
    ``PasskeyRefused`` and, when the passkey's owner is known, is audited (``MFA_FAILED``); the
    caller counts it towards the lockout.
    """
    state = request.session.pop(AUTHENTICATION_STATE, None)
    request.session.save()  # the challenge serves once
    if not state:
        raise PasskeyRefused(_("This request has expired. Try again."))
    try:
        with rewrite_exceptions():
            device = helper(request).authenticate_complete(user=user, state=state, data=data)
        if not device.confirmed or not device.user.is_active:
            raise webauthn_errors.CredentialDisabled()
    except (webauthn_errors.OTPWebAuthnApiError, InvalidJSONStructure, KeyError, TypeError,
            ValueError, AttributeError) as error:
        subject = user or owner_of(data if isinstance(data, dict) else {})
        if subject is not None:
            audit.record(AuditEvent.Kind.MFA_FAILED, request=request, user=subject, account=account,
                         application=application, method="passkey",
                         reason=getattr(error, "code", "invalid"))
        raise PasskeyRefused() from error
    return device
