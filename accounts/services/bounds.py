"""Who may use support powers on whose sign-in (SECURITY.md 52).

Resetting MFA, sending a password reset and unlocking each take over or reopen a sign-in. Were
support staff able to use them on each other, on a superuser or on themselves, one stolen support
session would reach every privileged account, and a locked-out support member could lift their
own lockout. Only a superuser may, and every use is audited by the service that does it.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy

from ..models import User

ONLY_A_SUPERUSER = gettext_lazy("only a superuser can do that for Mitel staff, a superuser or themselves")


def is_beyond_reach(user: User, acting_user: User | None) -> bool:
    """Whether ``user`` is out of reach of ``acting_user``: staff, superusers and the actor
    themselves are, unless the actor is a superuser. No actor (the user's own e-mailed link) is
    not bounded here."""
    if acting_user is None or acting_user.is_superuser:
        return False
    return user.is_staff or user.is_superuser or user.pk == acting_user.pk


def ensure_within_reach(user: User, acting_user: User | None) -> None:
    if is_beyond_reach(user, acting_user):
        raise PermissionDenied(f"{user.username}: {ONLY_A_SUPERUSER}.")


def within_reach(users: QuerySet[User], acting_user: User) -> QuerySet[User]:
    """``users`` without those beyond ``acting_user``'s reach."""
    if acting_user.is_superuser:
        return users
    return users.exclude(Q(is_staff=True) | Q(is_superuser=True) | Q(pk=acting_user.pk))
