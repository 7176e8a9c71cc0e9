"""Signal receivers: side effects only (audit, lockout bookkeeping). Connected in ``ready()``."""

from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_save
from django.dispatch import receiver

from .models import AuditEvent, User
from .services import audit
from .usernames import canonical_username


def _context(request) -> dict:
    """Account, application and method of the sign-in flow that made the request, if any."""
    context = dict(getattr(request, "signin_context", None) or {})
    context.pop("username", None)
    return {key: value for key, value in context.items() if value is not None}


@receiver(user_logged_in, dispatch_uid="audit_sign_in")
def record_sign_in(sender, request, user: User, **kwargs) -> None:
    if request is None:
        return
    # Only this username's failures are forgiven: axes' own reset would clear the client IP's
    # count too, which an attacker could use between guesses.
    AccessAttempt.objects.filter(username=user.username).delete()
    audit.record(AuditEvent.Kind.SIGN_IN, request=request, user=user, **_context(request))


@receiver(user_login_failed, dispatch_uid="audit_sign_in_failed")
def record_sign_in_failure(sender, credentials: dict, request=None, **kwargs) -> None:
    if request is None or getattr(request, "refused_by_lockout", False):
        return  # no password was checked: record_lockout records the refusal
    if "password" not in credentials:
        return  # a second factor's failure, sent for axes to count: its service audits it
    username = canonical_username(credentials.get("username"))
    user = User.objects.filter(username=username).first() if username else None
    audit.record(AuditEvent.Kind.SIGN_IN_FAILED, request=request, user=user, username=username,
                 **{"method": "password", **_context(request)}, reason="bad_credentials")


@receiver(user_locked_out, dispatch_uid="audit_locked_out")
def record_lockout(sender, request, username: str | None = None, ip_address=None, **kwargs) -> None:
    username = canonical_username(username)
    user = User.objects.filter(username=username).first() if username else None
    audit.record(AuditEvent.Kind.LOCKED_OUT, request=request, user=user, username=username,
                 **{"method": "password", **_context(request)},
                 refused=bool(getattr(request, "refused_by_lockout", False)))


@receiver(user_logged_out, dispatch_uid="audit_sign_out")
def record_sign_out(sender, request, user: User | None, **kwargs) -> None:
    if request is not None and user is not None:
        audit.record(AuditEvent.Kind.SIGN_OUT, request=request, user=user)


@receiver(user_logged_in, dispatch_uid="remember_signin_method")
def remember_signin_method(sender, request, user: User, **kwargs) -> None:
    """The session keeps how its user signed in, and to which account: password expiry concerns
    password sign-ins only, and a session proven by an account's identity provider acts in that
    account only (SECURITY.md 43)."""
    from .middleware import SIGNIN_ACCOUNT_SESSION_KEY, SIGNIN_METHOD_SESSION_KEY

    if request is not None and hasattr(request, "session"):
        context = getattr(request, "signin_context", None) or {}
        account = context.get("account")
        request.session[SIGNIN_METHOD_SESSION_KEY] = context.get("method") or "password"
        request.session[SIGNIN_ACCOUNT_SESSION_KEY] = account.pk if account is not None else None


@receiver(post_save, sender=User, dispatch_uid="end_sessions_of_deactivated_users")
def end_sessions_of_deactivated_users(sender, instance: User, **kwargs) -> None:
    """A deactivated user is signed out everywhere at once, however they were deactivated."""
    if not instance.is_active:
        from .sessions import end_sessions

        end_sessions(instance)
