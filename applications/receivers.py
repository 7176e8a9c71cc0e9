"""Signal receivers of downstream identity: remember what the sign-in proved, for the tokens."""

import secrets

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import pre_delete
from django.dispatch import receiver
from django.utils import timezone

from accounts.models import Membership
from accounts.sessions import sessions_ended

# What the session's sign-in leaves for applications: the Mitel account chosen, when, and the
# session id (``sid``) its tokens carry. The method is under accounts' SIGNIN_METHOD_SESSION_KEY.
SESSION_KEY = "application_signin"


@receiver(user_logged_in, dispatch_uid="remember_signin_for_applications")
def remember_signin_for_applications(sender, request, user, **kwargs) -> None:
    if request is None or not hasattr(request, "session"):
        return
    context = getattr(request, "signin_context", None) or {}
    account = context.get("account")
    # A session already signed in (the same user: Django's login() flushes a session of anyone
    # else) keeps its sid, so that signing out ends every application it signed in to; and its
    # auth_time too when no new proof was asked for (another account, signin.switch_account).
    before = request.session.get(SESSION_KEY) or {}
    carried = context.get("carried_proof") and before.get("auth_time")
    request.session[SESSION_KEY] = {
        "account_id": account.pk if account is not None else None,
        "auth_time": before["auth_time"] if carried else int(timezone.now().timestamp()),
        "sid": before.get("sid") or secrets.token_urlsafe(24),
    }


@receiver(user_logged_out, dispatch_uid="end_application_sessions")
def end_application_sessions_on_sign_out(sender, request, user, **kwargs) -> None:
    """``/signout/``, RP-Initiated Logout, and ``prompt=login`` or ``max_age`` ending the session
    to ask for a fresh proof: the session's application tokens end with it, and the applications
    are told. A session's tokens never outlive it (the fresh sign-in is a new session, new ``sid``).
    """
    if request is None:
        return
    from .logout import end_application_sessions

    end_application_sessions(request, (request.session.get(SESSION_KEY) or {}).get("sid", ""))


@receiver(sessions_ended, dispatch_uid="end_application_sessions_of_ended_sessions")
def end_application_sessions_of_ended_sessions(sender, user, sessions: list[dict], **kwargs) -> None:
    """Deactivation, a password change or reset that ends other sessions, an MFA reset, "Sign out
    everywhere": those sessions' tokens end, and their applications are told, as at a sign-out."""
    from .logout import end_signins
    from .models import ApplicationSignIn

    sids = {(data.get(SESSION_KEY) or {}).get("sid") for data in sessions} - {None, ""}
    if sids:
        end_signins(ApplicationSignIn.objects.filter(user=user, sid__in=sids))


@receiver(pre_delete, sender=Membership, dispatch_uid="end_application_signins_of_removed_member")
def end_application_signins_of_removed_member(sender, instance: Membership, **kwargs) -> None:
    """Someone taken out of an account, by a contact, by support or with the account itself: the
    tokens of their sign-ins to that account end, whatever session they came from, and their
    applications are told. Taking them out ends their sessions too, but tokens outlive a session
    that merely expired, and a token must not name an account its person has left. Before the
    delete (its account is still set then; the account's own deletion clears it), in the
    deletion's transaction: a removal rolled back revokes nothing."""
    from .logout import end_signins
    from .models import ApplicationSignIn

    end_signins(ApplicationSignIn.objects.filter(user_id=instance.user_id,
                                                 account_id=instance.account_id))
