"""Linking identity-provider identities (issuer + ``sub``) to Mitel users."""

from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import AuditEvent, Membership, MitelAccount, User
from accounts.services import audit
from accounts.services.bounds import ensure_within_reach, within_reach
from accounts.services.memberships import Ability, accounts_visible_to, has_global

from ..claims import SsoIdentity
from ..models import LinkedIdentity, SsoConnection


class IdentityConflict(Exception):
    """The identity belongs to another user, or the user to another identity of this issuer."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def link_identity(user: User, identity: SsoIdentity, *, now: datetime | None = None) -> LinkedIdentity:
    """The link of ``identity`` to ``user``: found, or made on the first sign-in.

    Raises ``IdentityConflict`` when the identity already opens another user (its username was
    changed at the identity provider: CVE-2025-65431), or when the user already signed in as
    another identity of the same issuer.
    """
    now = now or timezone.now()
    link = LinkedIdentity.objects.filter(issuer=identity.issuer, subject=identity.subject).first()
    if link is None:
        if LinkedIdentity.objects.filter(issuer=identity.issuer, user=user).exists():
            raise IdentityConflict("user_linked_to_other_identity")
        try:
            with transaction.atomic():
                link = LinkedIdentity.objects.create(
                    user=user, issuer=identity.issuer, subject=identity.subject, last_used_at=now
                )
        except IntegrityError:
            # A concurrent first sign-in linked first: fine if it linked the same pair.
            link = LinkedIdentity.objects.filter(
                issuer=identity.issuer, subject=identity.subject, user=user
            ).first()
            if link is None:
                raise IdentityConflict("identity_linked_to_other_user") from None
        return link
    if link.user_id != user.pk:
        raise IdentityConflict("identity_linked_to_other_user")
    LinkedIdentity.objects.filter(pk=link.pk).update(last_used_at=now)
    return link


# Support staff (``sso.delete_linkedidentity``, migration 0004) and Mitel administrators remove any
# link within their reach; an account's contacts remove the links its own identity provider made.
GLOBAL_UNLINK_PERMISSION = "sso.delete_linkedidentity"


def _issuers(accounts: QuerySet[MitelAccount]) -> dict[str, set[int]]:
    """The issuer of each account's SSO connection, with the accounts it serves."""
    issuers: dict[str, set[int]] = {}
    for connection in SsoConnection.objects.filter(account__in=accounts).select_related("account"):
        if connection.provider is not None:
            issuers.setdefault(connection.issuer, set()).add(connection.account_id)
    return issuers


def of_accounts(accounts: QuerySet[MitelAccount]) -> Q:
    """Links made by one of ``accounts``' identity providers, of users of that same account."""
    query = Q(pk__in=[])
    for issuer, account_ids in _issuers(accounts).items():
        members = Membership.objects.filter(account_id__in=account_ids).values("user_id")
        query |= Q(issuer=issuer, user_id__in=members)
    return query


def identities_visible_to(user: User) -> QuerySet[LinkedIdentity]:
    """The links ``user`` may see: every one for Mitel staff who see SSO connections; for a contact,
    those of their accounts' identity providers, of their accounts' users (a shared user's link to
    another account's identity provider is that account's business)."""
    links = LinkedIdentity.objects.select_related("user")
    if has_global(user, Ability.VIEW_SSO) or user.has_perm(GLOBAL_UNLINK_PERMISSION):
        return links
    return links.filter(of_accounts(accounts_visible_to(user, Ability.VIEW_SSO)))


def identities_removable_by(user: User) -> QuerySet[LinkedIdentity]:
    """The links ``user`` may remove: for Mitel staff with the permission, those of users within
    their reach (SECURITY.md 52); for a contact, those their accounts' identity providers made for
    their accounts' users, never a Mitel staff member's."""
    links = LinkedIdentity.objects.select_related("user")
    if user.has_perm(GLOBAL_UNLINK_PERMISSION):
        return links.filter(user__in=within_reach(User.objects.all(), user))
    return links.filter(of_accounts(accounts_visible_to(user, Ability.MANAGE_SSO))).exclude(
        Q(user__is_staff=True) | Q(user__is_superuser=True))


def unlink_identity(identity: LinkedIdentity, *, acting_user: User,
                    request: HttpRequest | None = None) -> None:
    """Remove the link: the next Single Sign On of its user links whichever identity the identity
    provider then asserts for that username (as after a customer re-registers its application in
    Entra ID, when every ``sub`` changes)."""
    if acting_user.has_perm(GLOBAL_UNLINK_PERMISSION):
        ensure_within_reach(identity.user, acting_user)
    if not identities_removable_by(acting_user).filter(pk=identity.pk).exists():
        raise PermissionDenied(_("You cannot remove this linked identity."))
    their_accounts = MitelAccount.objects.filter(memberships__user=identity.user)
    accounts = _issuers(their_accounts).get(identity.issuer, set())
    with transaction.atomic():
        audit.record(AuditEvent.Kind.IDENTITY_UNLINKED, request=request, user=identity.user,
                     actor=acting_user, account=MitelAccount.objects.filter(pk__in=accounts).first(),
                     issuer=identity.issuer, subject=identity.subject)
        identity.delete()
