"""Managing a user in the Connect Portal: provisioning, and changing the username, names and e-mail."""

from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from ..models import AuditEvent, Invitation, User
from ..sessions import end_sessions
from . import audit
from .bounds import ensure_within_reach
from .memberships import audit_accounts, users_fully_managed_by

STALE_EDIT_MESSAGE = _(
    "This user was changed by someone else while you were editing; reload and try again."
)


class StaleEdit(Exception):
    """The user changed since the editor loaded it: nothing was written."""

    def __init__(self) -> None:
        super().__init__(STALE_EDIT_MESSAGE)


def provision_user(
    user: User, *, acting_user: User, request: HttpRequest | None = None, **detail
) -> User:
    """Create ``user`` (unsaved, from a form) without a usable password: they set one through
    "Forgot password", or sign in with Single Sign On. Unless the form chose one, their language is
    the contact's (the page's), until they sign in with their own."""
    if not user.language:
        user.language = language_in_use()
    with transaction.atomic():
        user.set_unusable_password()
        user.save()
        audit.record(
            AuditEvent.Kind.USER_CHANGED, request=request, user=user, actor=acting_user,
            created=True, **detail,
        )
    return user


def update_user(
    user: User,
    *,
    fields: Iterable[str],
    expected_version: int,
    acting_user: User,
    request: HttpRequest | None = None,
    also_changed: Iterable[str] = (),
) -> list[str]:
    """Write ``fields`` of ``user`` unless someone changed it since ``expected_version``.

    The version is compared and bumped in the same UPDATE, so of two editors who loaded the same
    version only the first writes; the second gets ``StaleEdit`` and writes nothing (SECURITY.md
    36). A save that changes nothing still bumps the version, as it may carry role changes.
    Returns the names of the fields that changed.
    """
    with transaction.atomic():
        current = User.objects.get(pk=user.pk)
        if current.version != expected_version:
            raise StaleEdit
        changed = [name for name in fields if getattr(current, name) != getattr(user, name)]
        values = {name: getattr(user, name) for name in changed}
        try:
            with transaction.atomic():
                written = User.objects.filter(pk=user.pk, version=expected_version).update(
                    version=F("version") + 1, **values
                )
        except IntegrityError as error:
            raise ValidationError(_("A user with that Mitel username already exists.")) from error
        if written != 1:
            raise StaleEdit
        user.version = expected_version + 1
        for account in audit_accounts(user, acting_user):
            if "username" in changed:
                audit.record(
                    AuditEvent.Kind.USERNAME_CHANGED, request=request, user=user, actor=acting_user,
                    account=account, old=current.username, new=user.username,
                )
            others = {name: [_plain(getattr(current, name)), _plain(values[name])]
                      for name in changed if name != "username"}
            if others or also_changed:
                audit.record(
                    AuditEvent.Kind.USER_CHANGED, request=request, user=user, actor=acting_user,
                    account=account, changes=others, also_changed=sorted(also_changed),
                )
    return changed


def _plain(value: object) -> object:
    return value if isinstance(value, str | int | bool | type(None)) else str(value)


def record_deletion(user: User, *, actor: User | None, request: HttpRequest | None,
                    **detail) -> None:
    """Audit that ``user`` is being deleted, in each account they belong to now.

    The events keep the username and the accounts by value (``user`` is left empty: the row is
    about to go), and every earlier event keeps its ``username`` and ``actor_username``, so the
    trail still says who did what (SECURITY.md 53).
    """
    accounts = audit_accounts(user, actor) if actor is not None else audit.accounts_of(user)
    for account in accounts:
        audit.record(AuditEvent.Kind.USER_DELETED, request=request, actor=actor, account=account,
                     username=user.username, deleted_user_id=user.pk, **detail)


def delete_user(user: User, *, acting_user: User, request: HttpRequest | None = None) -> None:
    """Delete ``user`` (their memberships go with them) and audit it with who did it."""
    with transaction.atomic():
        record_deletion(user, actor=acting_user, request=request)
        user._deletion_audited = True
        user.delete()


def deactivate_user(user: User, *, acting_user: User, request: HttpRequest | None = None) -> int:
    """Stop ``user`` signing in: inactive, every session and application token ended, their
    unanswered invitations cancelled; audited in each account of the actor's. Returns the number
    of sessions ended.

    A contact may deactivate only users whose every account they manage: a username that also
    belongs to another account is that account's business too (remove it from yours instead).
    """
    ensure_within_reach(user, acting_user)
    if not users_fully_managed_by(acting_user).filter(pk=user.pk).exists():
        raise PermissionDenied(_("%(username)s also belongs to a Mitel account you do not manage.")
                               % {"username": user.username})
    now = timezone.now()
    with transaction.atomic():
        current = User.objects.select_for_update().get(pk=user.pk)
        if not current.is_active:
            return 0
        ended = end_sessions(current)  # sessions_ended: their applications' tokens end too
        current.is_active = False
        current.save(update_fields=["is_active"])
        cancelled = Invitation.objects.open().filter(user=current).update(revoked_at=now)
        for account in audit_accounts(current, acting_user):
            audit.record(AuditEvent.Kind.USER_DEACTIVATED, request=request, user=current,
                         actor=acting_user, account=account, sessions_ended=ended,
                         invitations_cancelled=cancelled)
    user.is_active = False
    return ended


def language_in_use() -> str:
    """The active language when it is one of ``LANGUAGES`` (a ``User.language``), else ""."""
    language = translation.get_language() or ""
    return language if language in dict(settings.LANGUAGES) else ""
