"""Invitations: how a user who belongs to another Mitel account joins a contact's account.

A contact cannot add such a user (``memberships.needs_invitation``); they invite them. The user is
told by e-mail and accepts or declines on ``/me/``, signed in as themselves; only then does the
membership exist (SECURITY.md 44). Every step is audited in the transaction that makes it.
"""

import secrets
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from ..models import AuditEvent, Invitation, Membership, MitelAccount, Role, User
from . import audit, memberships
from .mail import public_url, send_template_mail


class InvitationRefused(memberships.RoleRuleViolation):
    """What was asked of the invitation cannot be done; the message says why."""


def invite(
    account: MitelAccount,
    user: User,
    roles: frozenset[Role],
    *,
    acting_user: User,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> Invitation:
    """Invite ``user`` to join ``account`` with ``roles``, and tell them by e-mail.

    ``acting_user`` must manage the users of ``account`` and be allowed to grant ``roles`` there.
    An open invitation of the same user to the same account is replaced by this one.
    """
    now = now or timezone.now()
    with transaction.atomic():
        account = MitelAccount.objects.select_for_update().get(pk=account.pk)
        memberships._require_manager(acting_user, account, user)
        memberships.check_roles_allowed(acting_user, account, user, frozenset(), roles)
        if Membership.objects.filter(user=user, account=account).exists():
            raise InvitationRefused(_("%(username)s is already in %(account)s.")
                                    % {"username": user.username, "account": account.name})
        for older in Invitation.objects.open().filter(account=account, user=user):
            _close(older, "revoked_at", AuditEvent.Kind.INVITATION_REVOKED, actor=acting_user,
                   request=request, now=now, replaced=True)
        invitation = Invitation.objects.create(
            account=account, user=user, roles=sorted(roles), invited_by=acting_user,
            token=secrets.token_urlsafe(32), created_at=now,
            expires_at=now + timedelta(days=settings.INVITATION_EXPIRY_DAYS),
        )
        _record(invitation, AuditEvent.Kind.INVITATION_SENT, actor=acting_user, request=request,
                expires_at=invitation.expires_at.isoformat())
    transaction.on_commit(partial(_enqueue_mail, invitation.pk), robust=True)
    return invitation


def accept(
    invitation: Invitation, user: User, *, request: HttpRequest | None = None,
    now: datetime | None = None,
) -> Membership:
    """``user`` accepts: they join the account with the invitation's roles.

    Only the invited user, signed in as themselves, may accept; and only while the person who
    invited them may still grant those roles in that account.
    """
    now = now or timezone.now()
    with transaction.atomic():
        MitelAccount.objects.select_for_update().get(pk=invitation.account_id)
        current = _current(invitation, user, now)
        roles = frozenset(current.role_list)
        inviter = current.invited_by
        allowed = memberships.grantable_roles(inviter, current.account) if inviter else frozenset()
        if not allowed or not roles <= allowed:
            raise InvitationRefused(
                _("The person who invited you no longer manages the users of %(account)s: ask one "
                  "of its Authorized Contacts to invite you again.") % {"account": current.account.name}
            )
        membership, created = Membership.objects.get_or_create(
            user=user, account=current.account, defaults=memberships.role_fields(roles))
        current.accepted_at = now
        current.save(update_fields=["accepted_at"])
        _record(current, AuditEvent.Kind.INVITATION_ACCEPTED, actor=user, request=request,
                already_member=not created)
        if created:
            audit.record(AuditEvent.Kind.ROLES_CHANGED, request=request, user=user, actor=user,
                         account=current.account, before=[], after=sorted(roles), added=True,
                         invited_by=inviter.username)
    return membership


def decline(
    invitation: Invitation, user: User, *, request: HttpRequest | None = None,
    now: datetime | None = None,
) -> Invitation:
    """``user`` says no: the invitation closes and nothing else changes."""
    now = now or timezone.now()
    with transaction.atomic():
        current = _current(invitation, user, now)
        _close(current, "declined_at", AuditEvent.Kind.INVITATION_DECLINED, actor=user,
               request=request, now=now)
    return current


def revoke(
    invitation: Invitation, *, acting_user: User, request: HttpRequest | None = None,
    now: datetime | None = None,
) -> Invitation:
    """A contact of the account (or Mitel staff) cancels an invitation not yet answered."""
    now = now or timezone.now()
    with transaction.atomic():
        current = Invitation.objects.select_for_update(of=("self",)).select_related("account", "user").get(
            pk=invitation.pk)
        if not memberships.grantable_roles(acting_user, current.account):
            raise InvitationRefused(_("You do not manage the users of %(account)s.")
                                    % {"account": current.account.name})
        if current.status(now) not in (Invitation.Status.PENDING, Invitation.Status.EXPIRED):
            raise InvitationRefused(_("This invitation was %(status)s already.")
                                    % {"status": str(current.status(now).label).lower()})
        _close(current, "revoked_at", AuditEvent.Kind.INVITATION_REVOKED, actor=acting_user,
               request=request, now=now)
    return current


def pending_for(user: User, *, now: datetime | None = None):
    """The invitations ``user`` may still accept, newest first."""
    return Invitation.objects.pending(now).filter(user=user, sets_password=False).select_related(
        "account", "invited_by")


def refusal(invitation: Invitation, user: User, *, now: datetime | None = None) -> str:
    """Why ``user`` may not answer ``invitation`` now; empty when they may."""
    if invitation.user_id != user.pk:
        # Nothing about the invitation: the signed-in person may not be the one it was sent to.
        return ("This invitation was sent to another Mitel username. Only the person invited can "
                "accept it, signed in as themselves: sign out, then sign in with the invited username.")
    status = invitation.status(now)
    if status == Invitation.Status.PENDING:
        return ""
    return {
        Invitation.Status.ACCEPTED: "You accepted this invitation already.",
        Invitation.Status.DECLINED: "You declined this invitation.",
        Invitation.Status.REVOKED: "This invitation was cancelled by the account's Authorized Contact.",
        Invitation.Status.EXPIRED: "This invitation has expired: ask the account's Authorized "
                                   "Contact to invite you again.",
    }[status]


def _current(invitation: Invitation, user: User, now: datetime) -> Invitation:
    current = Invitation.objects.select_for_update(of=("self",)).select_related(
        "account", "user", "invited_by").get(pk=invitation.pk)
    reason = refusal(current, user, now=now)
    if reason:
        raise InvitationRefused(reason)
    return current


def _close(invitation: Invitation, field: str, kind: str, *, actor: User,
           request: HttpRequest | None, now: datetime, **detail) -> None:
    setattr(invitation, field, now)
    invitation.save(update_fields=[field])
    _record(invitation, kind, actor=actor, request=request, **detail)


def _record(invitation: Invitation, kind: str, *, actor: User, request: HttpRequest | None,
            **detail) -> None:
    audit.record(kind, request=request, user=invitation.user, actor=actor,
                 account=invitation.account, invitation=invitation.pk, roles=list(invitation.roles),
                 **detail)


def _join_mail(invitation: Invitation) -> bool:
    """An existing user's e-mail inviting them to join ``invitation.account``."""
    path = reverse("portal:invitation", args=[invitation.token])
    return send_template_mail(invitation.user, "invitation", {
        "invitation": invitation,
        "account": invitation.account,
        # Text, not lazy labels: the plain-text e-mail's join (autoescape off) cannot join those,
        # and printed the list's repr instead.
        "roles": [str(role.label) for role in invitation.role_list],
        "inviter": invitation.invited_by.get_full_name() if invitation.invited_by else "",
        "accept_url": public_url(path),  # never from the request's Host (SECURITY.md 42)
    })


# --- New users: the first link sets their password ----------------------------------------------


def welcome(
    user: User,
    account: MitelAccount,
    *,
    acting_user: User,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> Invitation:
    """Send ``user``, created by ``acting_user`` in ``account``, a link to choose their first password.

    The contact never types a password for anyone. Any earlier link of the user ends here (it is
    cancelled, so only the newest link works); the e-mail leaves through the task queue once the
    transaction commits, so a rolled-back creation sends nothing.
    """
    now = now or timezone.now()
    with transaction.atomic():
        memberships._require_manager(acting_user, account, user)
        membership = Membership.objects.filter(user=user, account=account).first()
        roles = sorted(membership.roles) if membership else []
        for older in Invitation.objects.open().select_for_update().filter(user=user, sets_password=True):
            _close(older, "revoked_at", AuditEvent.Kind.INVITATION_REVOKED, actor=acting_user,
                   request=request, now=now, replaced=True)
        invitation = Invitation.objects.create(
            account=account, user=user, roles=roles, invited_by=acting_user, sets_password=True,
            token=secrets.token_urlsafe(32), created_at=now,
            expires_at=now + timedelta(days=settings.INVITATION_EXPIRY_DAYS),
        )
        _record(invitation, AuditEvent.Kind.INVITATION_SENT, actor=acting_user, request=request,
                sets_password=True, expires_at=invitation.expires_at.isoformat())
    transaction.on_commit(partial(_enqueue_mail, invitation.pk), robust=True)
    return invitation


def resend_welcome(
    user: User, *, acting_user: User, request: HttpRequest | None = None, now: datetime | None = None,
) -> Invitation:
    """A new link for a user who has not chosen a password yet; the link sent before stops working.

    Only for a user whose every account ``acting_user`` manages (the rule for changing their
    e-mail, SECURITY.md 33): the link sets a password that works in all of them.
    """
    if not memberships.users_fully_managed_by(acting_user).filter(pk=user.pk).exists():
        raise InvitationRefused(_("You do not manage every account of %(username)s.")
                                % {"username": user.username})
    if not user.is_active:
        raise InvitationRefused(_("%(username)s is deactivated.") % {"username": user.username})
    if user.has_usable_password():
        raise InvitationRefused(_("%(username)s has chosen a password already: send a password "
                                  "reset e-mail if they forgot it.") % {"username": user.username})
    managed = memberships.accounts_visible_to(acting_user, memberships.Ability.MANAGE_USERS)
    last = Invitation.objects.filter(user=user, sets_password=True, account__in=managed).first()
    account = last.account if last else managed.filter(memberships__user=user).order_by("pk").first()
    if account is None:
        raise InvitationRefused(_("%(username)s belongs to no Mitel account: add one first.")
                                % {"username": user.username})
    return welcome(user, account, acting_user=acting_user, request=request, now=now)


def welcome_refusal(invitation: Invitation, *, now: datetime | None = None) -> str:
    """Why a new user's link cannot set a password now; empty when it can."""
    user = invitation.user
    if not invitation.sets_password or invitation.status(now) != Invitation.Status.PENDING:
        return "This link has expired, was replaced by a newer one, or was used already."
    if not user.is_active:
        return "This Mitel username is deactivated: ask your Authorized Contact."
    if user.has_usable_password():
        return "You have chosen a password already: sign in with it, or use Forgot password."
    return ""


def set_first_password(
    invitation: Invitation, new_password: str, *, request: HttpRequest | None = None,
    now: datetime | None = None,
) -> User:
    """The new user chooses their password through their link: the link is used up, and audited.

    Never signs them in: they sign in with the password (and any second factor) as anyone does.
    """
    now = now or timezone.now()
    with transaction.atomic():
        current = Invitation.objects.select_for_update(of=("self",)).select_related(
            "account", "user").get(pk=invitation.pk)
        user = User.objects.select_for_update().get(pk=current.user_id)
        current.user = user
        reason = welcome_refusal(current, now=now)
        if reason:
            raise InvitationRefused(reason)
        user.set_password(new_password)
        user.password_changed_at = now
        user.save(update_fields=["password", "password_changed_at"])
        current.accepted_at = now
        current.save(update_fields=["accepted_at"])
        _record(current, AuditEvent.Kind.INVITATION_ACCEPTED, actor=user, request=request,
                sets_password=True)
        audit.record_about(AuditEvent.Kind.PASSWORD_CHANGED, request=request, user=user, actor=user,
                           reason="first_password")
    return user


def _enqueue_mail(invitation_id: int) -> None:
    from ..tasks import send_invitation_mail

    send_invitation_mail.enqueue(invitation_id, language=translation.get_language() or "")


def send_invitation_mail(invitation_id: int) -> bool:
    """The task's work: mail an invitation, unless it was answered, cancelled or replaced by a
    newer one meanwhile (the newer one sends its own): a new user's link to choose their password,
    or an existing user's invitation to join an account."""
    invitation = Invitation.objects.select_related("account", "user", "invited_by").filter(
        pk=invitation_id).first()
    if invitation is None:
        return False
    if not invitation.sets_password:
        return invitation.status() == Invitation.Status.PENDING and _join_mail(invitation)
    if welcome_refusal(invitation):
        return False
    accounts = [m.account for m in invitation.user.memberships.select_related("account")]
    sso_only = bool(accounts) and not any(account.password_allowed for account in accounts)
    return send_template_mail(invitation.user, "welcome", {
        "invitation": invitation,
        "account": invitation.account,
        "inviter": invitation.invited_by.get_full_name() if invitation.invited_by else "",
        "sso_only": sso_only,
        "set_password_url": public_url(reverse("portal:invitation", args=[invitation.token])),
        "signin_url": public_url(reverse("signin:signin")),
    })
