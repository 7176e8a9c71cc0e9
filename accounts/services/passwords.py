"""The password lifecycle: expiry policy, change, forgotten-password reset (docs/design.md 3.5 and 4)."""

import math
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from ..clientip import client_ip
from ..models import AuditEvent, MitelAccount, User
from ..sessions import end_sessions
from ..usernames import canonical_username
from . import audit
from .bounds import ensure_within_reach
from .mail import public_url, send_template_mail
from .memberships import audit_accounts

# --- Expiry policy ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PasswordPolicy:
    """How long a password lasts (``max_age_days``, 0 = for ever) and how early the user is warned."""

    max_age_days: int = 0
    warning_days: int = 0

    @property
    def expires(self) -> bool:
        return self.max_age_days > 0


def strictest_policy(accounts: Iterable[MitelAccount]) -> PasswordPolicy:
    """The policy of a user in ``accounts``: the shortest non-zero maximum age, and of the accounts
    that set one, the longest warning (never longer than that age)."""
    expiring = [a for a in accounts if a.password_max_age_days > 0]
    if not expiring:
        return PasswordPolicy()
    max_age = min(a.password_max_age_days for a in expiring)
    warning = max(a.password_warning_days for a in expiring)
    return PasswordPolicy(max_age_days=max_age, warning_days=min(warning, max_age))


def password_policy(user: User) -> PasswordPolicy:
    accounts = MitelAccount.objects.filter(memberships__user=user, password_max_age_days__gt=0)
    return strictest_policy(accounts.only("password_max_age_days", "password_warning_days"))


@dataclass(frozen=True)
class PasswordExpiry:
    """Where a password stands: ``expires_at`` (None: never), expired, or within the warning window."""

    expires_at: datetime | None = None
    expired: bool = False
    warn: bool = False
    days_left: int | None = None  # whole days until it expires, rounded down

    @property
    def due(self) -> bool:
        """Whether the sign-in must stop at the expiry step."""
        return self.expired or self.warn


def expiry_of(changed_at: datetime, policy: PasswordPolicy, *, now: datetime | None = None) -> PasswordExpiry:
    """The expiry of a password set at ``changed_at`` under ``policy``, seen at ``now``."""
    if not policy.expires:
        return PasswordExpiry()
    now = now or timezone.now()
    expires_at = changed_at + timedelta(days=policy.max_age_days)
    left = expires_at - now
    if left <= timedelta(0):
        return PasswordExpiry(expires_at=expires_at, expired=True, days_left=0)
    days_left = math.floor(left / timedelta(days=1))
    return PasswordExpiry(expires_at=expires_at, warn=left <= timedelta(days=policy.warning_days),
                          days_left=days_left)


def password_expiry(user: User, *, accounts: Iterable[MitelAccount] | None = None,
                    now: datetime | None = None) -> PasswordExpiry:
    """The expiry of the user's password under the strictest policy of their accounts (pass
    ``accounts`` when they are loaded already: the sign-in flow has them).

    Users without a usable password (Single Sign On only) have nothing to expire.
    """
    if not user.has_usable_password():
        return PasswordExpiry()
    policy = strictest_policy(accounts) if accounts is not None else password_policy(user)
    return expiry_of(user.password_changed_at, policy, now=now)


# --- Change -------------------------------------------------------------------------------------


def change_password(user: User, new_password: str, *, request: HttpRequest | None = None,
                    acting_user: User | None = None, now: datetime | None = None,
                    reason: str = "changed") -> int:
    """Set ``new_password``, record it, end the user's other sessions; mail a confirmation after commit.

    The session of ``request`` stays signed in when it is the user's own (the sign-in flow's, or the
    change page's); every other session of the user ends at once. Returns how many ended.
    """
    return _set_password(user, new_password, kind=AuditEvent.Kind.PASSWORD_CHANGED, request=request,
                         acting_user=acting_user, now=now, reason=reason)


def _set_password(user: User, new_password: str, *, kind: str, request: HttpRequest | None,
                  acting_user: User | None, now: datetime | None, **detail) -> int:
    now = now or timezone.now()
    with transaction.atomic():
        user.set_password(new_password)
        user.password_changed_at = now
        user.save(update_fields=["password", "password_changed_at"])
        keep = None
        if request is not None and hasattr(request, "session"):
            if hasattr(request, "user") and (acting_user is None or acting_user.pk == user.pk):
                # A new session key, and the new password's hash in the session: this one stays.
                update_session_auth_hash(request, user)
            keep = request.session.session_key
        ended = end_sessions(user, keep=keep)
        by_another = acting_user is not None and acting_user.pk != user.pk
        accounts = audit_accounts(user, acting_user) if by_another else None
        audit.record_about(kind, request=request, user=user, actor=acting_user or user,
                           accounts=accounts, sessions_ended=ended, **detail)
    template = "password_reset_done" if kind == AuditEvent.Kind.PASSWORD_RESET else "password_changed"
    transaction.on_commit(partial(_mail, template, user, when=now), robust=True)
    return ended


# --- Forgotten password -------------------------------------------------------------------------


class PasswordResetTokens(PasswordResetTokenGenerator):
    """Reset-link tokens: single-use, expiring after ``PASSWORD_RESET_TIMEOUT`` seconds.

    The token is an HMAC of the user's password hash, last sign-in and e-mail address (Django's
    ``_make_hash_value``): setting any password, signing in or changing the address kills every link
    sent before. A salt of our own keeps tokens of other users of Django's generator (allauth's) from
    working here. ``now`` is the clock, for tests.
    """

    key_salt = "accounts.services.passwords.PasswordResetTokens"

    def __init__(self, now: datetime | None = None) -> None:
        super().__init__()
        self.clock = now

    def _now(self) -> datetime:
        return (self.clock or timezone.now()).astimezone(UTC).replace(tzinfo=None)


def reset_link_path(user: User, *, now: datetime | None = None) -> str:
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    return reverse("signin:password_reset", args=[uidb64, PasswordResetTokens(now).make_token(user)])


def user_from_uidb64(uidb64: str) -> User | None:
    try:
        pk = User._meta.pk.to_python(force_str(urlsafe_base64_decode(uidb64)))
        return User.objects.get(pk=pk, is_active=True)
    except (TypeError, ValueError, OverflowError, ValidationError, User.DoesNotExist):
        return None


def check_reset_token(user: User | None, token: str | None, *, now: datetime | None = None) -> bool:
    return bool(user and token) and PasswordResetTokens(now).check_token(user, token)


def users_for_reset(typed: str) -> list[User]:
    """Active users whose username or stored e-mail address is ``typed``.

    As Django's PasswordResetForm does since CVE-2019-19844: the database's case-insensitive match
    is only a first cut (PostgreSQL's ``UPPER`` makes ``ı`` match ``i``), then addresses must be
    equal once NFKC-normalised and case-folded; mail only ever goes to the stored address.
    """
    typed = typed.strip()
    if not typed:
        return []
    username = canonical_username(typed)
    compatible = unicodedata.normalize("NFKC", typed)
    candidates = User.objects.filter(
        Q(username=username) | Q(email__iexact=typed) | Q(email__iexact=compatible), is_active=True)
    return [user for user in candidates
            if user.username == username or (user.email and _same_address(typed, user.email))]


def _same_address(a: str, b: str) -> bool:
    return unicodedata.normalize("NFKC", a).casefold() == unicodedata.normalize("NFKC", b).casefold()


def identity_provider_accounts(user: User) -> list[MitelAccount]:
    """The accounts of a user who can sign in only with Single Sign On; empty for everyone else."""
    accounts = [m.account for m in user.memberships.select_related("account")]
    if accounts and not any(account.password_allowed for account in accounts):
        return accounts
    return []


def request_password_reset(typed: str, *, request: HttpRequest) -> None:
    """The forgot-password page's one call: queue the e-mail, whatever was typed.

    The request does the same work whoever ``typed`` names (it stores one task), so its answer and
    its time say nothing about who exists (SECURITY.md 42); the worker looks the user up, applies
    the limits and sends (``send_requested_password_reset``).
    """
    from ..tasks import send_requested_password_reset as task

    task.enqueue(typed, ip_address=client_ip(request),
                 user_agent=request.META.get("HTTP_USER_AGENT", "")[:512],
                 language=translation.get_language() or "")


def send_requested_password_reset(typed: str, *, ip_address: str | None, user_agent: str = "",
                                  now: datetime | None = None) -> int:
    """Mail what the forgot-password page was asked for, within the limits; record every request.

    At most ``PASSWORD_RESET_REQUESTS_PER_ADDRESS`` requests from one client address and
    ``PASSWORD_RESET_MAILS_PER_USER`` e-mails to one user per hour: past either, nothing is sent
    and the refusal is recorded. Returns the number of e-mails the mail server accepted.
    """
    now = now or timezone.now()
    # An event about a person is written once per account of theirs (audit.record_about): the
    # request's id in each lets the limits count requests, not rows.
    origin = {"ip_address": ip_address, "user_agent": user_agent, "request_id": uuid.uuid4().hex}
    if ip_address and _requests_from(ip_address, now=now) >= settings.PASSWORD_RESET_REQUESTS_PER_ADDRESS:
        audit.record(AuditEvent.Kind.PASSWORD_RESET_REQUESTED, username=canonical_username(typed),
                     refused="too_many_from_address", **origin)
        return 0
    users = users_for_reset(typed)
    if not users:
        audit.record(AuditEvent.Kind.PASSWORD_RESET_REQUESTED, username=canonical_username(typed),
                     matched=False, **origin)
        return 0
    sent = 0
    for user in users:
        with transaction.atomic():
            # One worker at a time counts this user's e-mails (a row lock on PostgreSQL).
            User.objects.select_for_update().filter(pk=user.pk).exists()
            refused = _requests_of(user, now=now) >= settings.PASSWORD_RESET_MAILS_PER_USER
            providers = identity_provider_accounts(user)
            audit.record_about(AuditEvent.Kind.PASSWORD_RESET_REQUESTED, user=user, matched=True,
                               single_sign_on=bool(providers), has_email=bool(user.email),
                               **({"refused": "too_many_for_user"} if refused else {}), **origin)
        if not refused:
            sent += _send_reset_mail(user, providers)
    return sent


def _recent_requests(now: datetime):
    """Forgot-password requests of the last hour that were not refused (support's sends excluded).

    Those recorded after ``now`` count too: another worker may have mailed the user between this
    worker's start and the row lock it waited for, and its mail is one of the hour's.
    """
    return AuditEvent.objects.filter(
        kind=AuditEvent.Kind.PASSWORD_RESET_REQUESTED, actor__isnull=True,
        created_at__gt=now - timedelta(hours=1),
    ).exclude(detail__has_key="refused")


def _requests_from(ip_address: str, *, now: datetime) -> int:
    return _count_requests(_recent_requests(now).filter(ip_address=ip_address))


def _requests_of(user: User, *, now: datetime) -> int:
    return _count_requests(_recent_requests(now).filter(user=user))


def _count_requests(events) -> int:
    return events.order_by().values("detail__request_id").distinct().count()


def send_password_reset(user: User, *, request: HttpRequest, acting_user: User | None = None) -> int:
    """E-mail the user a single-use reset link, or, to a Single Sign On user, where to reset.

    For support in the Connect Portal (``acting_user``), and for anyone who sends a user a link:
    at once, and no limit applies. Mail-server errors are recorded and logged, never raised.
    Returns the number of e-mails the mail server accepted. Raises PermissionDenied for a user
    beyond ``acting_user``'s reach.
    """
    ensure_within_reach(user, acting_user)
    if not user.is_active:
        audit.record(AuditEvent.Kind.PASSWORD_RESET_REQUESTED, request=request, actor=acting_user,
                     username=user.username, matched=False)
        return 0
    providers = identity_provider_accounts(user)
    audit.record_about(AuditEvent.Kind.PASSWORD_RESET_REQUESTED, request=request, user=user,
                       actor=acting_user, matched=True, single_sign_on=bool(providers),
                       has_email=bool(user.email),
                       accounts=audit_accounts(user, acting_user) if acting_user else None)
    return _send_reset_mail(user, providers)


def send_set_password(user: User, *, account: MitelAccount, actor: User | None,
                      ip_address: str | None = None, user_agent: str = "") -> bool:
    """Mail ``user`` a single-use link to choose a password: ``account`` stopped using Single Sign On.

    The same link as a reset (``reset_link_path``), recorded as a reset request sent for the
    account (``reason``: ``sso_turned_off``). Returns whether the mail server accepted it.
    """
    if not user.is_active or user.has_usable_password():
        return False
    audit.record_about(AuditEvent.Kind.PASSWORD_RESET_REQUESTED, user=user, actor=actor, matched=True,
                       reason="sso_turned_off", has_email=bool(user.email), accounts=[account],
                       ip_address=ip_address, user_agent=user_agent)
    return _mail("password_set", user, account=account, reset_url=public_url(reset_link_path(user)),
                 valid_minutes=settings.PASSWORD_RESET_TIMEOUT // 60)


def _send_reset_mail(user: User, providers: list[MitelAccount]) -> int:
    if providers:
        return int(_mail("password_reset_sso", user, accounts=providers))
    return int(_mail("password_reset", user, reset_url=public_url(reset_link_path(user)),
                     valid_minutes=settings.PASSWORD_RESET_TIMEOUT // 60))


def complete_password_reset(user: User, new_password: str, *, request: HttpRequest | None = None,
                            now: datetime | None = None) -> int:
    """Set the password chosen through a reset link, clear the user's lockout, record both.

    Never signs anyone in: the sign-in flow asks for the new password (and any second factor).
    """
    from .lockouts import lift_username

    with transaction.atomic():
        ended = _set_password(user, new_password, kind=AuditEvent.Kind.PASSWORD_RESET, request=request,
                              acting_user=None, now=now)
        if user.username and lift_username(user.username):
            audit.record_about(AuditEvent.Kind.UNLOCKED, request=request, user=user, actor=user,
                               via="password_reset")
    return ended


# --- Mail ---------------------------------------------------------------------------------------


def _mail(template: str, user: User, **context) -> bool:
    """A password e-mail: it offers the forgotten-password page to whoever did not ask for it."""
    forgot_url = public_url(reverse("signin:password_forgot"))
    return send_template_mail(user, template, {"forgot_url": forgot_url, **context})
