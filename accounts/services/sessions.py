"""A person's sessions: listing them on /me/, signing one or all out, and ending those below the bar.

Raising what a session must have proven ends the sessions that have not proven it (SECURITY.md 51):
setting up MFA ends every other session of the user; an account starting to require MFA ends its
members' password sessions that no second factor verified; a role gained or lost ends that
user's other sessions, so no session carries over what it was signed in with.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import SESSION_KEY
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import Device

from .. import session_life
from ..models import AuditEvent, MitelAccount, User, UserSession
from ..sessions import end_sessions
from . import audit


@dataclass(frozen=True)
class SessionInfo:
    """One signed-in session as /me/ lists it. ``handle`` names it without giving its key away."""

    handle: str
    device: str
    ip_address: str | None
    signed_in_at: datetime | None
    last_used_at: datetime | None
    current: bool


def current_key(request: HttpRequest | None) -> str | None:
    session = getattr(request, "session", None)
    return session.session_key if session is not None else None


def _live(user_ids) -> "Iterable[UserSession]":
    return UserSession.objects.filter(user_id__in=user_ids, expire_date__gt=timezone.now())


def sessions_of(user: User, *, request: HttpRequest | None = None) -> list[SessionInfo]:
    """The user's live sessions, this one first, then the most recently used."""
    here = current_key(request)
    rows = _live([user.pk]).only("session_key", "created_at", "last_used_at", "user_agent",
                                 "ip_address")
    sessions = [SessionInfo(handle=session_life.handle(row.session_key),
                            device=session_life.device(row.user_agent), ip_address=row.ip_address,
                            signed_in_at=row.created_at, last_used_at=row.last_used_at,
                            current=row.session_key == here) for row in rows]
    return sorted(sessions, key=lambda s: (not s.current,
                                           -(s.last_used_at.timestamp() if s.last_used_at else 0)))


def end_session(user: User, handle: str, *, request: HttpRequest | None = None) -> bool:
    """Sign out the user's session named ``handle`` (never this one: that is "Sign out")."""
    here = current_key(request)
    with transaction.atomic():
        for key in _live([user.pk]).values_list("session_key", flat=True):
            if key != here and session_life.handle(key) == handle:
                end_sessions(user, only=key)  # sessions_ended: its applications' tokens end too
                audit.record_about(AuditEvent.Kind.SESSIONS_ENDED, request=request, user=user,
                                   actor=user, reason="signed_out_one", sessions_ended=1)
                return True
    return False


def end_every_session(user: User, *, request: HttpRequest | None = None) -> int:
    """"Sign out everywhere": every session of the user, this one included."""
    with transaction.atomic():
        ended = end_sessions(user)  # sessions_ended: their applications' tokens end too
        audit.record_about(AuditEvent.Kind.SESSIONS_ENDED, request=request, user=user, actor=user,
                           reason="signed_out_everywhere", sessions_ended=ended)
    return ended


def end_other_sessions(user: User, *, request: HttpRequest | None = None, reason: str,
                       actor: User | None = None) -> int:
    """End every session of ``user`` but the one of ``request`` when it is the user's own."""
    keep = current_key(request) if actor is None or actor.pk == user.pk else None
    ended = end_sessions(user, keep=keep)  # sessions_ended: their applications' tokens end too
    if ended:
        accounts = None
        if actor is not None and actor.pk != user.pk:
            from .memberships import audit_accounts  # memberships ends sessions through here

            accounts = audit_accounts(user, actor)
        audit.record_about(AuditEvent.Kind.SESSIONS_ENDED, request=request, user=user,
                           actor=actor or user, accounts=accounts, reason=reason,
                           sessions_ended=ended)
    return ended


def is_verified(data: dict, user_id: int) -> bool:
    """Whether a session meets an MFA requirement: verified with a confirmed device of its user,
    or signed in by an identity provider (which asks for its own second factor)."""
    from ..middleware import SIGNIN_METHOD_SESSION_KEY

    if data.get(SIGNIN_METHOD_SESSION_KEY, "password") != "password":
        return True
    device = Device.from_persistent_id(data.get(DEVICE_ID_SESSION_KEY) or "", for_verify=False)
    return device is not None and device.user_id == user_id and device.confirmed


def end_unverified_sessions(account: MitelAccount, *, users: Iterable[User] | None = None,
                            request: HttpRequest | None = None, actor: User | None = None) -> int:
    """End the password sessions of ``account``'s members (or of ``users``, who just joined it)
    that no second factor verified: the account requires MFA. Decodes each live session of those
    people, a rare and bounded job (an account's setting changed, someone joined)."""
    members = (account.memberships.values("user_id") if users is None
               else [user.pk for user in users])
    doomed: dict[int, list[str]] = {}
    for row in _live(members).only("session_key", "session_data", "user_id"):
        data = row.get_decoded()
        if data.get(SESSION_KEY) is not None and not is_verified(data, row.user_id):
            doomed.setdefault(row.user_id, []).append(row.session_key)
    keys = [key for group in doomed.values() for key in group]
    if not keys:
        return 0
    with transaction.atomic():
        UserSession.objects.filter(session_key__in=keys).delete()
        for user in User.objects.filter(pk__in=doomed):
            audit.record(AuditEvent.Kind.SESSIONS_ENDED, request=request, user=user, actor=actor,
                         account=account, reason="account_requires_mfa",
                         sessions_ended=len(doomed[user.pk]))
    return len(keys)
