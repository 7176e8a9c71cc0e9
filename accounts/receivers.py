"""Signal receivers: side effects only (audit, lockout bookkeeping, device cookie), connected in ready()."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver
from django.utils import timezone

from .models import Application, AuditEvent, MitelAccount, User
from .services import audit, lockouts
from .services.users import language_in_use
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
    # Only the username's (or this device cookie's) failures are forgiven, never the client
    # address's: a spraying address must not get its count wiped when one of its targets signs in.
    lockouts.signed_in(request, user)
    context = _context(request)
    session = getattr(request, "session", None)
    if hasattr(session, "save_with_insert"):
        # The event commits with the signed-in session, or not at all (SECURITY.md 38).
        session.save_with_insert(audit.record(AuditEvent.Kind.SIGN_IN, request=request, user=user,
                                              save=False, **context))
    else:
        audit.record(AuditEvent.Kind.SIGN_IN, request=request, user=user, **context)


def record_last_login(sender, request, user: User, **kwargs) -> None:
    """Django's ``update_last_login`` (disconnected in ``AccountsConfig.ready``), written with the
    signed-in session: on PostgreSQL in the statement that saves it. The language of the sign-in
    becomes the user's (their e-mails' language) in the same write."""
    user.last_login = timezone.now()
    values = {"last_login": user.last_login}
    language = language_in_use() if request is not None else ""
    if language and language != user.language:
        user.language = values["language"] = language
    session = getattr(request, "session", None)
    if hasattr(session, "save_with_update"):
        # __class__, not type(): the user may be request.user, a lazy object around the User.
        session.save_with_update(user.__class__, user.pk, **values)
    else:
        user.save(update_fields=list(values))


@receiver(user_login_failed, dispatch_uid="audit_sign_in_failed")
def record_sign_in_failure(sender, credentials: dict, request=None, **kwargs) -> None:
    if request is None or getattr(request, "refused_by_lockout", False):
        return  # no password was checked: the lockout service recorded the refusal
    if "password" not in credentials:
        return
    username = canonical_username(credentials.get("username"))
    attempt = getattr(request, "lockout_attempt", None)
    user = getattr(attempt, "user", lockouts.NOT_LOADED)  # the backend loaded it already
    if user is lockouts.NOT_LOADED:
        user = User.objects.filter(username=username).first() if username else None
    audit.record(AuditEvent.Kind.SIGN_IN_FAILED, request=request, user=user, username=username,
                 **{"method": "password", **_context(request)}, reason="bad_credentials")
    if attempt is not None:
        request.lockout_attempt = None
        attempt.failed()  # the lockout this failure started, recorded after the failure


@receiver(user_logged_out, dispatch_uid="audit_sign_out")
def record_sign_out(sender, request, user: User | None, **kwargs) -> None:
    if request is not None and user is not None:
        audit.record_about(AuditEvent.Kind.SIGN_OUT, request=request, user=user, actor=user)


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


# --- sessions and the audit trail (SECURITY.md 51 and 53) -------------------------------------------

@receiver(user_logged_in, dispatch_uid="start_session_clock")
def start_session_clock(sender, request, user: User, **kwargs) -> None:
    """A sign-in starts the session's life ("Stay signed in? No" counts from here) and what /me/
    lists of it."""
    from . import session_life

    if request is not None and hasattr(request, "session"):
        if not (getattr(request, "signin_context", None) or {}).get("carried_proof"):
            request.session.pop(session_life.STARTED, None)  # not for another account of the same
        session_life.touch(request.session, request)


@receiver(pre_save, sender=MitelAccount, dispatch_uid="note_mfa_requirement")
def note_mfa_requirement(sender, instance: MitelAccount, raw: bool = False, update_fields=None,
                         **kwargs) -> None:
    if update_fields is not None and "require_mfa" not in update_fields:
        instance._required_mfa_before = True  # not changing: nothing to do after the save
        return
    instance._required_mfa_before = bool(instance.pk) and MitelAccount.objects.filter(
        pk=instance.pk, require_mfa=True).exists()


@receiver(post_save, sender=MitelAccount, dispatch_uid="end_sessions_below_mfa_requirement")
def end_sessions_below_mfa_requirement(sender, instance: MitelAccount, raw: bool = False,
                                       **kwargs) -> None:
    """An account that starts to require MFA signs out its members' sessions no code verified,
    however the account was saved."""
    if raw or not instance.require_mfa or getattr(instance, "_required_mfa_before", True):
        return
    from .services.sessions import end_unverified_sessions

    end_unverified_sessions(instance)


@receiver(pre_delete, sender=User, dispatch_uid="audit_user_deleted")
def record_user_deleted(sender, instance: User, **kwargs) -> None:
    """A user deleted other than by ``services.users.delete_user`` (the shell, a cascade) is
    audited too, without an actor; that service audits its own deletions with theirs."""
    if not getattr(instance, "_deletion_audited", False):
        from .services.users import record_deletion

        record_deletion(instance, actor=None, request=None, via="other")


# --- the cached applications of the sign-in (services/applications.py) ----------------------------

@receiver(pre_save, sender=Application, dispatch_uid="note_application_slug")
def note_application_slug(sender, instance: Application, raw: bool = False, **kwargs) -> None:
    """The slug the application had before this save: a renamed one's old copy goes too."""
    instance._slug_before = (Application.objects.filter(pk=instance.pk).values_list("slug", flat=True)
                             .first() if instance.pk else None)


@receiver(post_save, sender=Application, dispatch_uid="forget_saved_application")
@receiver(post_delete, sender=Application, dispatch_uid="forget_deleted_application")
def forget_application(sender, instance: Application, **kwargs) -> None:
    from .services import applications

    applications.forget(instance.slug, getattr(instance, "_slug_before", None) or "")
