"""Who may see and manage what: Authorized Contact scoping, and role changes within Mitel's rules.

Everything the Connect Portal shows a contact is narrowed by the querysets here; the admin only asks.
A Mitel staff member (support, administrators) holds Django model permissions and sees everything
those permissions allow; an Authorized Contact holds none and sees only what their roles in their
own accounts allow (``ROLE_ABILITIES``).
"""

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.text import get_text_list
from django.utils.translation import gettext as _

from ..models import ACCOUNT_LEVEL_ROLES, AuditEvent, Membership, MitelAccount, Role, User
from . import audit, domains, sessions


class Ability(StrEnum):
    VIEW_ACCOUNT = "view_account"
    VIEW_USERS = "view_users"
    MANAGE_USERS = "manage_users"
    VIEW_SSO = "view_sso"
    MANAGE_SSO = "manage_sso"
    VIEW_AUDIT = "view_audit"


_ADMINISTERING = frozenset(Ability)
# What each Authorized Contact role lets its holder do in the Connect Portal, for that account only.
ROLE_ABILITIES: dict[Role, frozenset[Ability]] = {
    Role.DECISION_MAKER: _ADMINISTERING,
    Role.PHONE_MANAGER: _ADMINISTERING,
    Role.TECHNICAL_CONTACT: frozenset({Ability.VIEW_ACCOUNT, Ability.VIEW_USERS, Ability.VIEW_SSO}),
    Role.BILLING_CONTACT: frozenset({Ability.VIEW_ACCOUNT}),
    Role.EMERGENCY_CONTACT: frozenset({Ability.VIEW_ACCOUNT}),
}

# The Django permissions that give a Mitel staff member an ability in every account.
GLOBAL_PERMISSIONS: dict[Ability, tuple[str, ...]] = {
    Ability.VIEW_ACCOUNT: ("accounts.view_mitelaccount", "accounts.change_mitelaccount"),
    Ability.VIEW_USERS: ("accounts.view_user", "accounts.change_user"),
    Ability.MANAGE_USERS: ("accounts.change_user",),
    Ability.VIEW_SSO: ("sso.view_ssoconnection", "sso.change_ssoconnection"),
    Ability.MANAGE_SSO: ("sso.change_ssoconnection",),
    Ability.VIEW_AUDIT: ("accounts.view_auditevent",),
}


# How a session proven by Mitel's own means was proven: a password (and perhaps a second factor), or
# a passkey alone. Such a session has the rights of a password session; any other method names an
# identity provider.
MITEL_METHODS = frozenset({"password", "passkey"})


@dataclass(frozen=True)
class SessionScope:
    """The accounts a signed-in session may act in, from how it was proven (SECURITY.md 43).

    A session proven by an account's identity provider is bound to that account; one proven by a
    Mitel password gives rights in the accounts that take Mitel passwords. Set on ``request.user``
    by ``accounts.middleware.SessionScopeMiddleware``; code that acts without a session (management
    commands, services called with a plain user) is not narrowed.
    """

    method: str
    account_id: int | None = None

    def accounts_q(self, prefix: str = "") -> Q:
        if self.method not in MITEL_METHODS:
            return Q(**{f"{prefix}pk": self.account_id or 0})
        from sso import providers  # here, not at the top: sso builds on accounts

        beta = [p.key for p in providers.all() if p.beta]
        return (Q(**{f"{prefix}authentication": MitelAccount.Authentication.MITEL.value})
                | Q(**{f"{prefix}allow_password_sign_in": True})
                | Q(**{f"{prefix}authentication__in": beta, f"{prefix}okta_beta": False}))


def own_memberships(user: User) -> QuerySet[Membership]:
    """``user``'s memberships, narrowed to the accounts the session may act in."""
    memberships = Membership.objects.filter(user=user)
    scope: SessionScope | None = getattr(user, "signin_scope", None)
    return memberships.filter(scope.accounts_q("account__")) if scope is not None else memberships


class RoleRuleViolation(ValidationError):
    """A role change that Mitel's rules forbid."""


class InvitationRequired(RoleRuleViolation):
    """The user belongs to an account the contact does not administer: only an invitation they
    accept can put them in the contact's account (SECURITY.md 44)."""


def roles_of(membership: Membership) -> frozenset[Role]:
    return frozenset(membership.roles)


def role_fields(roles: set[Role] | frozenset[Role]) -> dict[str, bool]:
    return {field: role in roles for role, field in Membership.ROLE_FIELDS.items()}


def _roles_q(ability: Ability) -> Q:
    query = Q(pk__in=[])
    for role, abilities in ROLE_ABILITIES.items():
        if ability in abilities:
            query |= Q(**{Membership.ROLE_FIELDS[role]: True})
    return query


def _any_role_q() -> Q:
    query = Q(pk__in=[])
    for field in Membership.ROLE_FIELDS.values():
        query |= Q(**{field: True})
    return query


def has_global(user: User, ability: Ability) -> bool:
    """Whether ``user`` holds ``ability`` in every account through Django permissions."""
    return user.is_active and any(user.has_perm(perm) for perm in GLOBAL_PERMISSIONS[ability])


def is_authorized_contact(user: User) -> bool:
    """Whether ``user`` holds at least one Authorized Contact role in some account."""
    if not (user.is_authenticated and user.is_active):
        return False
    return own_memberships(user).filter(_any_role_q()).exists()


def account_ids_where(user: User, ability: Ability) -> QuerySet:
    """A subquery of the ids of the accounts where ``user``'s own roles give ``ability``."""
    if not (user.is_authenticated and user.is_active):
        return Membership.objects.none().values("account_id")
    return own_memberships(user).filter(_roles_q(ability)).values("account_id")


def accounts_visible_to(user: User, ability: Ability = Ability.VIEW_ACCOUNT) -> QuerySet[MitelAccount]:
    """The accounts in which ``user`` holds ``ability``: all of them for Mitel staff with the permission."""
    if has_global(user, ability):
        return MitelAccount.objects.all()
    return MitelAccount.objects.filter(pk__in=account_ids_where(user, ability))


def abilities_in_some_account(user: User) -> frozenset[Ability]:
    """What ``user``'s roles let them do in at least one of their accounts."""
    if not (user.is_authenticated and user.is_active):
        return frozenset()
    abilities: set[Ability] = set()
    for membership in own_memberships(user).filter(_any_role_q()):
        for role in membership.roles:
            abilities |= ROLE_ABILITIES[role]
    return frozenset(abilities)


def users_visible_to(user: User) -> QuerySet[User]:
    """The users ``user`` may see in the Connect Portal: every member of an account they may view users of."""
    if has_global(user, Ability.VIEW_USERS):
        return User.objects.all()
    members = Membership.objects.filter(account_id__in=account_ids_where(user, Ability.VIEW_USERS))
    return User.objects.filter(pk__in=members.values("user_id"))


def users_managed_by(user: User) -> QuerySet[User]:
    """Users in at least one account where ``user`` manages users (roles, unlocks)."""
    if has_global(user, Ability.MANAGE_USERS):
        return User.objects.all()
    members = Membership.objects.filter(account_id__in=account_ids_where(user, Ability.MANAGE_USERS))
    # Mitel staff are never managed by a customer's contact, even when they hold a membership.
    return User.objects.filter(pk__in=members.values("user_id"), is_staff=False, is_superuser=False)


def users_fully_managed_by(user: User) -> QuerySet[User]:
    """Users whose every account is managed by ``user``: only they may have their username,
    names and e-mail changed by ``user`` (SECURITY.md 33)."""
    if has_global(user, Ability.MANAGE_USERS):
        return User.objects.all()
    managed = account_ids_where(user, Ability.MANAGE_USERS)
    elsewhere = Membership.objects.exclude(account_id__in=managed).values("user_id")
    return users_managed_by(user).exclude(pk__in=elsewhere)


def edit_restriction(actor: User, target: User) -> str:
    """Why ``actor`` may not change ``target``'s username, names and e-mail; empty when they may."""
    if has_global(actor, Ability.MANAGE_USERS):
        return ""
    if target.is_staff or target.is_superuser:
        return "This is a Mitel staff user: only Mitel administrators can change it."
    if not users_managed_by(actor).filter(pk=target.pk).exists():
        # Support staff's pages are view-only as a whole; they need no reason.
        return "" if actor.is_staff else "Your roles let you see this user but not change it."
    if not users_fully_managed_by(actor).filter(pk=target.pk).exists():
        return (
            "This username also belongs to a Mitel account you do not administer, so only someone "
            "who administers all of its accounts can change the username, names or e-mail. You can "
            "still change its roles in your accounts."
        )
    return ""


def grantable_roles(actor: User, account: MitelAccount) -> frozenset[Role]:
    """The roles ``actor`` may grant or take away in ``account``.

    A Decision Maker may change every role; a Phone Manager every role but Decision Maker and
    Billing Contact; Mitel staff with ``accounts.change_user`` every role in every account.
    """
    if has_global(actor, Ability.MANAGE_USERS):
        return frozenset(Role)
    own = own_memberships(actor).filter(account=account).first() if actor.is_active else None
    if own is None:
        return frozenset()
    if own.is_decision_maker:
        return frozenset(Role)
    if own.is_phone_manager:
        return frozenset(Role) - ACCOUNT_LEVEL_ROLES
    return frozenset()


def check_role_change(
    actor: User, account: MitelAccount, before: frozenset[Role], after: frozenset[Role]
) -> None:
    """Refuse a change of roles ``actor`` may not make in ``account``."""
    changed = before ^ after
    if not changed:
        return
    allowed = grantable_roles(actor, account)
    if not allowed:
        raise RoleRuleViolation(_("You do not manage the users of %(account)s.")
                                % {"account": account.name})
    refused = changed - allowed
    if refused:
        names = get_text_list(sorted(str(role.label) for role in refused), _("or"))
        raise RoleRuleViolation(
            _("A Phone Manager cannot grant or take away %(roles)s in %(account)s; ask a Decision "
              "Maker of the account.") % {"roles": names, "account": account.name}
        )


def check_decision_maker_remains(account: MitelAccount, *, losing: User) -> None:
    """Refuse to leave ``account`` without a Decision Maker when ``losing`` stops being one."""
    others = Membership.objects.filter(account=account, is_decision_maker=True).exclude(user=losing)
    if not others.exists():
        raise RoleRuleViolation(
            _("%(account)s needs at least one Decision Maker: make someone else Decision Maker "
              "first.") % {"account": account.name}
        )


def check_roles_allowed(actor: User, account: MitelAccount, member: User | None,
                        before: frozenset[Role], after: frozenset[Role]) -> None:
    """Refuse what Mitel's rules forbid when ``member``'s roles in ``account`` go from ``before`` to
    ``after`` (empty when ``member`` leaves the account; ``member`` is None for a new membership)."""
    check_role_change(actor, account, before, after)
    if Role.DECISION_MAKER in before and Role.DECISION_MAKER not in after:
        check_decision_maker_remains(account, losing=member)


def _require_manager(actor: User, account: MitelAccount, target: User) -> None:
    if has_global(actor, Ability.MANAGE_USERS):
        return
    if not grantable_roles(actor, account) or target.is_staff or target.is_superuser:
        raise RoleRuleViolation(_("You do not manage this user in %(account)s.")
                                % {"account": account.name})


def needs_invitation(actor: User, user: User) -> bool:
    """Whether ``user`` joins an account of ``actor``'s only by accepting an invitation.

    So it is when ``user`` belongs to an account where ``actor`` does not manage users: the
    contact speaks for their own accounts, not for that account's people (SECURITY.md 44). A user
    whose every account ``actor`` manages (a user ``actor`` may rename, SECURITY.md 33) and a
    brand-new one are added directly; Mitel staff with ``accounts.change_user`` add anyone.
    """
    if has_global(actor, Ability.MANAGE_USERS) or user.pk is None:
        return False
    managed = account_ids_where(actor, Ability.MANAGE_USERS)
    return Membership.objects.filter(user=user).exclude(account_id__in=managed).exists()


def check_direct_add(actor: User, account: MitelAccount, user: User) -> None:
    """Refuse to put ``user`` in ``account`` without their acceptance when the rules ask for it.

    Besides ``needs_invitation``: a username under a domain verified for an account ``actor`` does
    not manage belongs to that account's people, so another account's contact may not create it
    (it would squat the name, and receive that account's later invitations).
    """
    if has_global(actor, Ability.MANAGE_USERS):
        return
    if needs_invitation(actor, user):
        raise InvitationRequired(
            f"{user.username} also belongs to a Mitel account you do not administer: they join "
            f"{account.name} only by accepting an invitation."
        )
    realm = domains.realm_of(user.username)
    if realm is not None and realm.account_id != account.pk and not account_ids_where(
        actor, Ability.MANAGE_USERS
    ).filter(account_id=realm.account_id).exists():
        raise RoleRuleViolation(
            _("%(domain)s is verified for another Mitel account: only its Authorized Contacts add "
              "users under it.") % {"domain": realm.name}
        )


def _lock(account: MitelAccount) -> MitelAccount:
    # Serialises role changes per account, so two concurrent edits cannot both remove "the other"
    # Decision Maker.
    return MitelAccount.objects.select_for_update().get(pk=account.pk)


def add_membership(
    user: User,
    account: MitelAccount,
    roles: frozenset[Role],
    *,
    acting_user: User,
    request: HttpRequest | None = None,
) -> Membership:
    """Put ``user`` in ``account`` with ``roles``; a user of an account ``acting_user`` does not
    administer is refused (``InvitationRequired``): ``invitations.invite`` them instead."""
    with transaction.atomic():
        account = _lock(account)
        _require_manager(acting_user, account, user)
        check_direct_add(acting_user, account, user)
        check_roles_allowed(acting_user, account, user, frozenset(), roles)
        membership = Membership.objects.create(user=user, account=account, **role_fields(roles))
        _record_roles(membership, frozenset(), roles, acting_user, request, added=True)
        if account.require_mfa:
            sessions.end_unverified_sessions(account, users=[user], request=request, actor=acting_user)
    return membership


def change_roles(
    membership: Membership,
    roles: frozenset[Role],
    *,
    acting_user: User,
    request: HttpRequest | None = None,
) -> Membership:
    """Give ``membership`` exactly ``roles``."""
    with transaction.atomic():
        _lock(membership.account)
        current = Membership.objects.select_related("account", "user").get(pk=membership.pk)
        before = roles_of(current)
        _require_manager(acting_user, current.account, current.user)
        check_roles_allowed(acting_user, current.account, current.user, before, roles)
        if before == roles:
            return current
        for field, value in role_fields(roles).items():
            setattr(current, field, value)
        current.save(update_fields=list(Membership.ROLE_FIELDS.values()))
        _record_roles(current, before, roles, acting_user, request)
    return current


def remove_membership(
    membership: Membership, *, acting_user: User, request: HttpRequest | None = None
) -> None:
    """Take the user out of the account (the user itself stays)."""
    with transaction.atomic():
        _lock(membership.account)
        current = Membership.objects.select_related("account", "user").get(pk=membership.pk)
        before = roles_of(current)
        _require_manager(acting_user, current.account, current.user)
        check_roles_allowed(acting_user, current.account, current.user, before, frozenset())
        _record_roles(current, before, frozenset(), acting_user, request, removed=True)
        current.delete()


def _record_roles(
    membership: Membership,
    before: frozenset[Role],
    after: frozenset[Role],
    actor: User,
    request: HttpRequest | None,
    **flags: Any,
) -> None:
    audit.record(
        AuditEvent.Kind.ROLES_CHANGED,
        request=request,
        user=membership.user,
        actor=actor,
        account=membership.account,
        before=sorted(before),
        after=sorted(after),
        **flags,
    )
    if before != after:
        # A role gained or lost: the user's sessions start again with what they now hold
        # (SECURITY.md 51); their own session stays when they changed their own roles.
        sessions.end_other_sessions(membership.user, request=request, reason="roles_changed",
                                    actor=actor)


def audit_accounts(user: User, actor: User) -> list[MitelAccount | None]:
    """The accounts whose audit trail records something ``actor`` did to ``user``.

    Mitel staff act in every account of the user; a contact only in the accounts they manage, so
    that another account's contacts never read the name of someone outside it.
    """
    accounts = MitelAccount.objects.filter(memberships__user=user)
    if not (actor.is_staff or actor.is_superuser):
        accounts = accounts.filter(pk__in=account_ids_where(actor, Ability.MANAGE_USERS))
    return list(accounts.order_by("pk")) or [None]
