"""Signal receivers of downstream identity: remember what the sign-in proved, for the tokens."""

import secrets

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils import timezone

# What the session's sign-in leaves for applications: the Mitel account chosen, when, and the
# session id (``sid``) its tokens carry. The method is under accounts' SIGNIN_METHOD_SESSION_KEY.
SESSION_KEY = "application_signin"


@receiver(user_logged_in, dispatch_uid="remember_signin_for_applications")
def remember_signin_for_applications(sender, request, user, **kwargs) -> None:
    if request is None or not hasattr(request, "session"):
        return
    context = getattr(request, "signin_context", None) or {}
    account = context.get("account")
    request.session[SESSION_KEY] = {
        "account_id": account.pk if account is not None else None,
        "auth_time": int(timezone.now().timestamp()),
        "sid": secrets.token_urlsafe(24),
    }
