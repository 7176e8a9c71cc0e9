"""The authorize endpoint, whose login is the identifier-first sign-in flow."""

import json
from datetime import UTC, datetime
from urllib.parse import urlencode

from django.contrib.auth import logout
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils import timezone
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.models import get_access_token_model, get_application_model
from oauth2_provider.views import AuthorizationView, ConnectDiscoveryInfoView

from accounts.middleware import SIGNIN_METHOD_SESSION_KEY
from accounts.models import MitelAccount
from accounts.services.passkeys import is_passkey
from signin import switch_account
from signin.flow import find_account

from .receivers import SESSION_KEY

Application = get_application_model()
AccessToken = get_access_token_model()


class AuthorizeView(AuthorizationView):
    """``/o/authorize/``: an anonymous person signs in through ``/signin/`` and comes back here.

    The request is checked first (client, exact redirect URI, PKCE): a bad one gets an error page
    or an error sent to a registered redirect URI, never a sign-in. First-party Mitel applications
    skip the consent page (``skip_authorization``); others show it, in the portal's look.
    """

    template_name = "applications/authorize.html"

    def handle_no_permission(self) -> HttpResponse:
        prompt = set(self.request.GET.get("prompt", "").split())
        if "none" in prompt:
            return super().handle_no_permission()  # login_required, sent to the redirect URI
        return self.handle_prompt_login()

    def get(self, request, *args, **kwargs):
        # oauthlib asks the validator whether a prompt=none request may go on silently; only this
        # view knows the session, so it tells it through server-side request values (not HTTP_*
        # headers, which a client could send).
        fresh = not needs_fresh_proof(request)
        request.META["MITEL_SILENT_LOGIN"] = "1" if fresh else ""
        request.META["MITEL_SILENT_CONSENT"] = "1" if has_consented(request) else ""
        if not fresh and "none" not in prompt_of(request):
            return self.handle_prompt_login()
        if fresh and wants_another_account(request):
            return self.handle_select_account()
        return super().get(request, *args, **kwargs)

    def handle_select_account(self) -> HttpResponse:
        """``prompt=select_account``, or an ``account`` the session is not signed in to: the
        account picker again, with the session's proof (``signin.switch_account``). With
        ``prompt=none`` there is no page to show: ``account_selection_required``."""
        try:
            _scopes, credentials = self.validate_authorization_request(self.request)
        except OAuthToolkitError as error:
            return self.error_response(error, application=None)
        request = self.request
        application = Application.objects.get(client_id=credentials["client_id"])
        if "none" in prompt_of(request):
            answer = {"error": "account_selection_required"}
            if credentials.get("state"):
                answer["state"] = credentials["state"]
            uri = credentials["redirect_uri"]
            return self.redirect(f"{uri}{'&' if '?' in uri else '?'}{urlencode(answer)}", application)
        query = request.GET.copy()
        query.pop("prompt", None)  # the picker answers it; coming back must not ask again
        query.pop("account", None)
        return switch_account(request, application=application,
                              next_url=f"{request.path}?{query.urlencode()}",
                              account_hint=request.GET.get("account", "").strip(),
                              choose="select_account" in prompt_of(request))

    def handle_prompt_login(self) -> HttpResponse:
        """``prompt=login`` or ``max_age`` passed: a fresh proof, through the sign-in flow again.

        The session ends first (the sign-in page would otherwise send a signed-in person straight
        back), and its applications' refresh tokens with it (``receivers``, as a sign-out); the
        authorize request returns without ``prompt`` and ``max_age``, which the fresh sign-in
        satisfies.
        """
        try:
            _scopes, credentials = self.validate_authorization_request(self.request)
        except OAuthToolkitError as error:
            return self.error_response(error, application=None)
        request = self.request
        username = request.user.username if request.user.is_authenticated else ""
        logout(request)
        query = request.GET.copy()
        for name in ("prompt", "max_age"):
            query.pop(name, None)
        if username and not query.get("login_hint"):
            query["login_hint"] = username
        return HttpResponseRedirect(signin_url(request, credentials["client_id"], query))

    def create_authorization_response(self, request, scopes, credentials, allow):
        if allow:
            credentials["mitel_signin"] = session_signin(request)
        return super().create_authorization_response(request, scopes, credentials, allow)


def signin_url(request, client_id: str, params) -> str:
    """``/signin/`` for this application, returning to the authorize request made of ``params``."""
    application = Application.objects.get(client_id=client_id)
    query = {"app": application.slug, "next": f"{request.path}?{params.urlencode()}"}
    if params.get("login_hint"):
        query["login_hint"] = params["login_hint"]
    if params.get("account"):
        query["account"] = params["account"]
    if params.get("ui_locales"):
        query["ui_locales"] = params["ui_locales"]
    return f"{reverse('signin:signin')}?{urlencode(query)}"


def prompt_of(request) -> set[str]:
    return set(request.GET.get("prompt", "").split())


def needs_fresh_proof(request, *, now: datetime | None = None) -> bool:
    """No session, ``prompt=login``, or a sign-in older than the request's ``max_age`` seconds."""
    if not request.user.is_authenticated or "login" in prompt_of(request):
        return True
    max_age = request.GET.get("max_age", "")
    if not max_age.isdigit():
        return False
    auth_time = (request.session.get(SESSION_KEY) or {}).get("auth_time") or 0
    now = now or datetime.now(tz=UTC)
    return now.timestamp() - auth_time > int(max_age)


def wants_another_account(request) -> bool:
    """``prompt=select_account``, or an ``account`` (number or Partner Label) other than the one
    the session signed in to."""
    if "select_account" in prompt_of(request):
        return True
    hint = request.GET.get("account", "").strip()
    if not hint:
        return False
    account_id = (request.session.get(SESSION_KEY) or {}).get("account_id")
    account = MitelAccount.objects.filter(pk=account_id).first() if account_id else None
    return account is None or find_account([account], hint) is None


def has_consented(request) -> bool:
    """A first-party application, or one the person allowed and still holds a token from."""
    application = Application.objects.filter(client_id=request.GET.get("client_id", "")).first()
    if application is None or not request.user.is_authenticated:
        return False
    return application.skip_authorization or AccessToken.objects.filter(
        user=request.user, application=application, expires__gt=timezone.now()).exists()


def session_signin(request) -> dict:
    """What the session's sign-in proved, as the code and its tokens will state it."""
    stored = request.session.get(SESSION_KEY) or {}
    auth_time = stored.get("auth_time")
    return {
        "account_id": stored.get("account_id"),
        "method": request.session.get(SIGNIN_METHOD_SESSION_KEY, "password"),
        "mfa": bool(request.user.is_verified()) if hasattr(request.user, "is_verified") else False,
        "second_factor": "passkey" if is_passkey(getattr(request.user, "otp_device", None)) else "",
        "auth_time": datetime.fromtimestamp(auth_time, tz=UTC) if auth_time else datetime.now(tz=UTC),
        "sid": stored.get("sid") or request.session.session_key or "",
    }


class DiscoveryView(ConnectDiscoveryInfoView):
    """``/.well-known/openid-configuration``, with the revocation and introspection endpoints."""

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        data = json.loads(response.content)
        data["revocation_endpoint"] = request.build_absolute_uri(reverse("oauth2_provider:revoke-token"))
        data["introspection_endpoint"] = request.build_absolute_uri(
            reverse("oauth2_provider:introspect"))
        data["backchannel_logout_supported"] = True
        data["backchannel_logout_session_supported"] = True
        return JsonResponse(data, headers={"Access-Control-Allow-Origin": "*"})
