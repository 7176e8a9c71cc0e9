"""Middleware of the accounts app."""

from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from .services.memberships import MITEL_METHODS, SessionScope
from .services.passwords import password_expiry

# How the session's user signed in ("password", "passkey", "azure_ad", "okta"), and to which account,
# written at sign-in (accounts.receivers).
SIGNIN_METHOD_SESSION_KEY = "signin_method"
SIGNIN_ACCOUNT_SESSION_KEY = "signin_account"


class SessionScopeMiddleware:
    """Tells the services which accounts this session may act in (``memberships.SessionScope``).

    Sessions from before the method was recorded count as password sign-ins. Requests without a
    signed-in session are left alone (no session or user is loaded for them).
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        if session is not None and session.get(SIGNIN_METHOD_SESSION_KEY) is not None:
            user = request.user
            if user.is_authenticated:
                user.signin_scope = SessionScope(session[SIGNIN_METHOD_SESSION_KEY],
                                                 session.get(SIGNIN_ACCOUNT_SESSION_KEY))
        return self.get_response(request)


class PasswordExpiryMiddleware:
    """A signed-in user whose password has expired opens nothing but the change form (SECURITY.md 16).

    For passwords that expire during a long session; at sign-in the expiry step stops the flow.
    Sign-out, static files and ``/healthz`` stay open. Sessions that signed in with Single Sign On
    are left alone, as at sign-in.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Asked first: only a signed-in request can be stopped, and is_exempt reverses URLs.
        if self.must_change_password(request) and not self.is_exempt(request.path):
            target = reverse("portal:password_change")
            if request.method == "GET":
                target = f"{target}?{urlencode({'next': request.get_full_path()})}"
            return HttpResponseRedirect(target)
        return self.get_response(request)

    @staticmethod
    def is_exempt(path: str) -> bool:
        return (path in {reverse("portal:password_change"), reverse("signin:signout"),
                         reverse("healthz")}
                or path.startswith(settings.STATIC_URL))

    @staticmethod
    def must_change_password(request: HttpRequest) -> bool:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return False
        # Sessions from before the method was recorded count as password sign-ins.
        if request.session.get(SIGNIN_METHOD_SESSION_KEY, "password") not in MITEL_METHODS:
            return False
        return password_expiry(user).expired
