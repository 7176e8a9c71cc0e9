"""Linking identity-provider identities (issuer + ``sub``) to Mitel users."""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User

from ..claims import SsoIdentity
from ..models import LinkedIdentity


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
