"""Multi-factor authentication with an authenticator app (TOTP) and backup codes, on django-otp.

A user's second factor is one confirmed ``TOTPDevice`` and one ``StaticDevice`` holding ten
single-use backup codes. Enrolment creates an unconfirmed device whose secret the user scans; a
first code confirms it. Every code is checked through django-otp's own ``verify_token``, so its
throttling (``verify_is_allowed``) and the TOTP rule that a code works once (``last_t``) hold.
"""

import re
import secrets
import unicodedata
from base64 import b32encode, urlsafe_b64encode
from dataclasses import dataclass
from datetime import datetime, timedelta

import segno
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django_otp import user_has_device
from django_otp.models import Device
from django_otp.oath import TOTP, hotp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from ..models import Application, AuditEvent, MitelAccount, User
from . import audit, notices, sessions

AUTHENTICATOR_NAME = "Authenticator app"
BACKUP_CODES_NAME = "Backup codes"
BACKUP_CODE_COUNT = 10
# No 0/o, 1/i/l: a code copied from paper is read back right. 31 symbols, 10 of them: ~49 bits.
BACKUP_CODE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
BACKUP_CODE_LENGTH = 10
# How long a scanned-but-unconfirmed secret may still be confirmed.
ENROLMENT_MAX_AGE = timedelta(minutes=15)

# How far from now a refused code is still recognised as the user's, to say "wrong time" (steps).
OTHER_TIME_STEPS = 10

TOTP_FORMAT = re.compile(r"^[0-9]{6}$")
BACKUP_CODE_FORMAT = re.compile(rf"^[{BACKUP_CODE_ALPHABET}]{{{BACKUP_CODE_LENGTH}}}$")


class MfaError(Exception):
    """A code or an MFA change was refused; ``str(error)`` is what the user should read."""


class CodeRefused(MfaError):
    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or _("That code is not right. Check it and try again."))


class CodeReused(CodeRefused):
    """The authenticator's current code, already used: each works once (django-otp's ``last_t``)."""

    def __init__(self) -> None:
        super().__init__(_("That code has already been used. Wait for your authenticator app "
                           "to show a new one, then enter it."))


class CodeFromOtherTime(CodeRefused):
    """A code of the user's authenticator, but for a time minutes away from now."""

    def __init__(self) -> None:
        super().__init__(_("That code is not for the current time. Check that the clock on "
                           "the device with your authenticator app is set automatically, then "
                           "enter the code it shows now."))


MALFORMED = gettext_lazy("Enter the 6-digit code from your authenticator app, or one of your "
                         "backup codes.")


class CodeMalformed(MfaError):
    def __init__(self) -> None:
        super().__init__(str(MALFORMED))


class Throttled(MfaError):
    """django-otp's back-off after failures: no code is checked until ``until``.

    After one wrong code the wait is a second: the message says that this code was not checked
    (it may well be right), not that there were too many.
    """

    def __init__(self, until: datetime, failures: int = 1) -> None:
        self.until = until
        self.failures = failures
        seconds = max(1, int((until - timezone.now()).total_seconds() + 0.999))
        if failures <= 1:
            message = ngettext(
                "Your last code was wrong, and this one came too soon after it to be checked. "
                "Wait %(seconds)d second, then enter it again.",
                "Your last code was wrong, and this one came too soon after it to be checked. "
                "Wait %(seconds)d seconds, then enter it again.", seconds) % {"seconds": seconds}
        else:
            message = ngettext(
                "%(failures)d wrong codes in a row: each one makes the next wait longer. Wait "
                "%(seconds)d second, then enter the code your app shows.",
                "%(failures)d wrong codes in a row: each one makes the next wait longer. Wait "
                "%(seconds)d seconds, then enter the code your app shows.",
                seconds) % {"seconds": seconds, "failures": failures}
        super().__init__(message)


class EnrolmentExpired(MfaError):
    def __init__(self) -> None:
        super().__init__(_("This set-up has expired. Scan the new QR code below, then enter the "
                           "code it shows."))


class MfaRequiredByAccount(MfaError):
    def __init__(self) -> None:
        super().__init__(_("Your Mitel account requires two-step verification: you can replace "
                           "your authenticator app, but not remove it."))


@dataclass(frozen=True)
class Enrolment:
    """What the user needs to add an authenticator: the QR code and the same secret as text."""

    device: TOTPDevice

    @property
    def config_url(self) -> str:
        return self.device.config_url

    @property
    def secret(self) -> str:
        """The base32 secret in groups of four, as authenticator apps accept it typed."""
        text = b32encode(self.device.bin_key).decode()
        return " ".join(text[i:i + 4] for i in range(0, len(text), 4))

    @property
    def qr_code(self) -> str:
        """An SVG data URI (no inline style or script: the page's CSP allows ``img-src data:``)."""
        return segno.make(self.config_url, error="m").svg_data_uri(scale=5, dark="#000",
                                                                    light="#fff")


# --- what a user has -----------------------------------------------------------------------------

def has_device(user: User) -> bool:
    """Whether the user has a second factor they can use: an authenticator, or backup codes left."""
    return has_authenticator(user) or backup_codes_left(user) > 0


def has_authenticator(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def authenticator(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("-pk").first()


def backup_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def with_second_factors(rows: QuerySet, user_field: str) -> QuerySet:
    """``rows`` annotated with what ``has_authenticator`` (``has_authenticator_``) and
    ``has_device`` (``has_authenticator_ or has_backup_codes_``) answer for the user in
    ``user_field``: the same answers, in the query that loads the user."""
    user = OuterRef(user_field)
    return rows.annotate(
        has_authenticator_=Exists(TOTPDevice.objects.filter(user_id=user, confirmed=True)),
        has_backup_codes_=Exists(StaticToken.objects.filter(device__user_id=user,
                                                            device__confirmed=True)),
    )


def needs_second_factor(request: HttpRequest) -> bool:
    """Signed in, but without the code of a confirmed device the user has (SECURITY.md 24).

    Such a session (password only, or from before a device was set up elsewhere) must not reach
    the Connect Portal or an application: it signs in again, code included.
    """
    user = request.user
    is_verified = getattr(user, "is_verified", None)  # set by django-otp's OTPMiddleware
    if is_verified is not None and is_verified():
        return False
    return user_has_device(user, confirmed=True)


def mfa_required(user: User) -> bool:
    """Whether an account of the user's requires MFA of its password users.

    Any of them, not only the account chosen at sign-in: the session opens every account the user
    belongs to (the Connect Portal, Personal Information), so the strictest policy applies.
    """
    return user.memberships.filter(account__require_mfa=True).exists()


# --- enrolment -----------------------------------------------------------------------------------

@transaction.atomic
def start_enrolment(user: User) -> Enrolment:
    """A new unconfirmed authenticator with a fresh secret; earlier unconfirmed ones are dropped.

    Never reused across enrolments: a secret shown to one session (perhaps someone who had only
    the password) must not become the device another session confirms.
    """
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)
    return Enrolment(device)


def pending_enrolment(user: User, device_id: int | None, *, now: datetime | None = None
                      ) -> Enrolment | None:
    """The enrolment started with ``device_id``, if it is the user's, unconfirmed and recent."""
    if device_id is None:
        return None
    now = now or timezone.now()
    device = TOTPDevice.objects.filter(
        pk=device_id, user=user, confirmed=False, created_at__gte=now - ENROLMENT_MAX_AGE
    ).first()
    return Enrolment(device) if device else None


def confirm_enrolment(user: User, device_id: int, code: str, *, replace: bool = False,
                      request: HttpRequest | None = None, now: datetime | None = None
                      ) -> tuple[TOTPDevice, list[str]]:
    """Confirm the pending authenticator with its first code and issue ten new backup codes.

    With ``replace`` (only after the password was checked again) the user's other authenticators
    are removed in the same transaction; without it, a user who already has one is refused, so an
    enrolment started before another session enrolled cannot silently replace that device.
    Raises ``EnrolmentExpired``, ``CodeMalformed``, ``Throttled`` or ``CodeRefused``.
    """
    token = _normal(code)
    if not TOTP_FORMAT.match(token):
        raise CodeMalformed()
    now = now or timezone.now()
    refused: MfaError | None = None
    with transaction.atomic():
        device = (TOTPDevice.objects.select_for_update()
                  .filter(pk=device_id, user=user, confirmed=False,
                          created_at__gte=now - ENROLMENT_MAX_AGE)
                  .first())
        others = TOTPDevice.objects.filter(user=user, confirmed=True)
        if device is None or (others.exists() and not replace):
            raise EnrolmentExpired()
        allowed, info = device.verify_is_allowed()
        if not allowed:
            refused = Throttled(info["locked_until"], info["failure_count"])
        elif not device.verify_token(token):  # counts the failure towards django-otp's throttle
            refused = why_refused(device, token)
        else:
            replaced = others.count()
            others.delete()
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            codes = _issue_backup_codes(user)
            # The bar is raised: no other session of the user, password-only or verified with a
            # replaced device, stays signed in (SECURITY.md 51).
            ended = sessions.end_other_sessions(user, request=request, reason="mfa_enrolled")
            audit.record_about(AuditEvent.Kind.MFA_ENROLLED, request=request, user=user, actor=user,
                               method="totp", device="authenticator", replaced=bool(replaced),
                               backup_codes=len(codes), sessions_ended=ended)
            notices.tell(user, "mfa_replaced" if replaced else "mfa_enrolled", request=request,
                         sessions_ended=ended)
    if refused is not None:
        raise refused
    return device, codes


@transaction.atomic
def issue_backup_codes(user: User, *, request: HttpRequest | None = None) -> list[str]:
    """Ten new backup codes in place of the old ones; returned once, stored only as hashes."""
    if not has_authenticator(user):
        raise MfaError(_("Set up an authenticator app first: backup codes go with it."))
    codes = _issue_backup_codes(user)
    audit.record_about(AuditEvent.Kind.MFA_ENROLLED, request=request, user=user, actor=user,
                       method="backup_code", device="backup codes", backup_codes=len(codes))
    notices.tell(user, "backup_codes_issued", request=request)
    return codes


def _issue_backup_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=BACKUP_CODES_NAME, confirmed=True)
    codes = ["".join(secrets.choice(BACKUP_CODE_ALPHABET) for _ in range(BACKUP_CODE_LENGTH))
             for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=_stored(code)) for code in codes)
    return [f"{code[:5]}-{code[5:]}" for code in codes]


@transaction.atomic
def remove_devices(user: User, *, acting_user: User, request: HttpRequest | None = None) -> int:
    """Remove the user's authenticators and backup codes (the password was checked by the caller).

    Users cannot remove their own when an account of theirs requires MFA (support's reset is
    ``services.mfa.reset_mfa``). Returns how many devices went.
    """
    if acting_user.pk == user.pk and mfa_required(user):
        raise MfaRequiredByAccount()
    removed = 0
    for model in (TOTPDevice, StaticDevice):
        removed += model.objects.filter(user=user).delete()[1].get(model._meta.label, 0)
    if removed:
        audit.record_about(AuditEvent.Kind.MFA_REMOVED, request=request, user=user,
                           actor=acting_user, devices=removed)
        notices.tell(user, "mfa_removed", request=request)
    return removed


# --- verification at sign-in ---------------------------------------------------------------------

def verify_code(user: User, code: str, *, request: HttpRequest | None = None,
                account: MitelAccount | None = None, application: Application | None = None
                ) -> Device:
    """The device that accepts ``code`` (a 6-digit TOTP code or a backup code); it then works no more.

    A refused code is audited (``MFA_FAILED``) and counts towards django-otp's throttle; the
    caller counts it towards the lockout. Raises ``CodeMalformed``, ``Throttled`` or ``CodeRefused``.
    """
    token = _normal(code)
    if TOTP_FORMAT.match(token):
        model, method = TOTPDevice, "totp"
    elif BACKUP_CODE_FORMAT.match(token):
        model, method, token = StaticDevice, "backup_code", _stored(token)
    else:
        raise CodeMalformed()
    verified: Device | None = None
    throttled: Throttled | None = None
    refused: CodeRefused = CodeRefused()
    with transaction.atomic():
        # Locked rows: two requests carrying one code cannot both pass (django-otp's for_verify).
        for device in model.objects.select_for_update().filter(user=user, confirmed=True):
            allowed, info = device.verify_is_allowed()
            if not allowed:
                if throttled is None or info["locked_until"] > throttled.until:
                    throttled = Throttled(info["locked_until"], info["failure_count"])
            elif device.verify_token(token):
                verified = device
                break
            elif model is TOTPDevice:
                refused = why_refused(device, token)
        throttled_until = throttled.until if throttled else None
        if verified is None and throttled_until is None:
            audit.record(AuditEvent.Kind.MFA_FAILED, request=request, user=user, account=account,
                         application=application, method=method)
    if verified is not None:
        return verified
    if throttled is not None:
        raise throttled
    raise refused


def why_refused(device: TOTPDevice, token: str, *, now: float | None = None) -> CodeRefused:
    """What to tell the user of a code ``device`` refused: already used, another time, or wrong.

    Called only after ``verify_token`` refused it, so the answer never lets a code through: the
    refusal counts the same (throttle, lockout, audit) whichever message it carries.
    """
    try:
        value = int(token)
    except ValueError:
        return CodeRefused()
    clock = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    if now is not None:
        clock.time = now
    current = clock.t()
    window = range(current - device.tolerance, current + device.tolerance + 1)
    if device.last_t >= 0 and any(t <= device.last_t and hotp(device.bin_key, t, device.digits)
                                  == value for t in window):
        return CodeReused()
    for t in range(current - OTHER_TIME_STEPS, current + OTHER_TIME_STEPS + 1):
        if t not in window and hotp(device.bin_key, t, device.digits) == value:
            return CodeFromOtherTime()
    return CodeRefused()


def _normal(code: str) -> str:
    """Full-width digits, spaces, hyphens and case do not matter: ``" 123 456 "`` is ``123456``."""
    text = unicodedata.normalize("NFKC", code or "").lower()
    return re.sub(r"[\s-]", "", text)


def _stored(backup_code: str) -> str:
    """What the database keeps of a backup code: a keyed hash, never the code (ASVS 6.5.2).

    django-otp's ``StaticToken.token`` holds 16 characters: 96 bits of HMAC-SHA256, keyed by
    SECRET_KEY, so a copy of the database alone yields no usable code. Rotating SECRET_KEY
    invalidates the backup codes (users issue new ones on /me/mfa/).
    """
    digest = salted_hmac("accounts.services.totp.backup_code", _normal(backup_code),
                         algorithm="sha256").digest()
    return urlsafe_b64encode(digest).decode()[:16]
