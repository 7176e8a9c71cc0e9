"""Multi-factor authentication managed by support: resetting a user's devices."""

from django.db import transaction
from django.http import HttpRequest
from django_otp import devices_for_user

from ..models import AuditEvent, User
from . import audit, sessions
from .bounds import ensure_within_reach
from .mail import send_template_mail
from .memberships import audit_accounts


def reset_mfa(user: User, *, acting_user: User, request: HttpRequest | None = None) -> int:
    """Remove every django-otp device of ``user`` (authenticator apps, backup codes, any other kind),
    end their sessions (and so their applications' tokens: a session that a lost or stolen device
    verified must not outlive the reset), tell them by e-mail, and audit it. Returns how many
    devices were removed.

    The e-mail is sent once the transaction commits, so a rolled-back reset sends nothing. Raises
    PermissionDenied when ``user`` is beyond ``acting_user``'s reach (``bounds``).
    """
    ensure_within_reach(user, acting_user)
    with transaction.atomic():
        devices = list(devices_for_user(user, confirmed=None))
        kinds = sorted({type(device).__name__ for device in devices})
        for device in devices:
            device.delete()
        for account in audit_accounts(user, acting_user):
            audit.record(
                AuditEvent.Kind.MFA_RESET, request=request, user=user, actor=acting_user,
                account=account, devices=len(devices), kinds=kinds,
            )
        sessions.end_other_sessions(user, request=request, reason="mfa_reset", actor=acting_user)
        if user.email:
            transaction.on_commit(lambda: send_template_mail(user, "mfa_reset"))
    return len(devices)
