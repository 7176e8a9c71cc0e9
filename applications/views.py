"""The authorize endpoint, whose login is the identifier-first sign-in flow."""

import json
from datetime import UTC, datetime
from urllib.parse import urlencode

from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.models import get_application_model
from oauth2_provider.views import AuthorizationView, ConnectDiscoveryInfoView

from accounts.middleware import SIGNIN_METHOD_SESSION_KEY

from .receivers import SESSION_KEY

Application = get_application_model()


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
        try:
            _scopes, credentials = self.validate_authorization_request(self.request)
        except OAuthToolkitError as error:
            return self.error_response(error, application=None)
        return HttpResponseRedirect(signin_url(self.request, credentials["client_id"]))

    def create_authorization_response(self, request, scopes, credentials, allow):
        if allow:
            credentials["mitel_signin"] = session_signin(request)
        return super().create_authorization_response(request, scopes, credentials, allow)


def signin_url(request, client_id: str) -> str:
    """``/signin/`` for this application, returning to this very authorize request."""
    application = Application.objects.get(client_id=client_id)
    query = {"app": application.slug, "next": request.get_full_path()}
    if request.GET.get("login_hint"):
        query["login_hint"] = request.GET["login_hint"]
    if request.GET.get("account"):
        query["account"] = request.GET["account"]
    return f"{reverse('signin:signin')}?{urlencode(query)}"


def session_signin(request) -> dict:
    """What the session's sign-in proved, as the code and its tokens will state it."""
    stored = request.session.get(SESSION_KEY) or {}
    auth_time = stored.get("auth_time")
    return {
        "account_id": stored.get("account_id"),
        "method": request.session.get(SIGNIN_METHOD_SESSION_KEY, "password"),
        "mfa": bool(request.user.is_verified()) if hasattr(request.user, "is_verified") else False,
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
        return JsonResponse(data, headers={"Access-Control-Allow-Origin": "*"})
