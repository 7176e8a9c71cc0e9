"""The one allauth URL we route: the identity provider's redirect back to us."""

from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView
from django.core.exceptions import MultipleObjectsReturned
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST
from requests import RequestException

from .models import SsoConnection
from .oidc import MitelOIDCAdapter, is_mitel_app
from .services.login import provider_error, start_login
from .services.saml_login import continue_saml, receive_response


@never_cache
@csrf_protect
@require_POST
def start(request: HttpRequest) -> HttpResponse:
    """The Single Sign On button of the sign-in flow: off to the account's identity provider."""
    return start_login(request)


@never_cache
@require_GET
def callback(request: HttpRequest, provider_id: str) -> HttpResponse:
    """allauth's OAuth2 callback with our stricter adapter; our pages for whatever goes wrong.

    allauth's own login, signup and connection views are not routed: a login can only start from
    the sign-in flow's Single Sign On button (``sso.services.login.start_login``).
    """
    try:
        provider = get_adapter(request).get_provider(request, provider_id)
    except (SocialApp.DoesNotExist, MultipleObjectsReturned):
        raise Http404 from None
    if not is_mitel_app(provider.app) or not SsoConnection.objects.filter(social_app=provider.app).exists():
        raise Http404
    view = OAuth2CallbackView.adapter_view(MitelOIDCAdapter(request, provider_id))
    try:
        return view(request)
    except (RequestException, OAuth2Error) as exc:
        # Raised before allauth's own error handling starts, e.g. the discovery document of the
        # identity provider is unreachable while exchanging the code.
        return provider_error(request, provider, error=None, exception=exc, extra_context={})




def _saml_connection(provider_id: str) -> SsoConnection:
    connection = SsoConnection.objects.select_related("account").filter(
        account__account_number=provider_id.removeprefix("mitel-"), protocol=SsoConnection.Protocol.SAML,
    ).first()
    if connection is None or connection.provider_id != provider_id or not connection.is_ready:
        raise Http404
    return connection


@never_cache
@require_GET
def saml_metadata(request: HttpRequest, provider_id: str) -> HttpResponse:
    """Our SAML metadata for one connection (its URL is also our SP entity ID)."""
    from . import saml

    connection = _saml_connection(provider_id)
    return HttpResponse(saml.sp_metadata(connection), content_type="application/samlmetadata+xml")


@never_cache
@csrf_exempt  # the identity provider posts cross-site; the answer's own checks stand in for CSRF
@require_POST
def saml_acs(request: HttpRequest, provider_id: str) -> HttpResponse:
    """The Assertion Consumer Service of one SAML connection (``sso.services.saml_login``)."""
    return receive_response(request, _saml_connection(provider_id))


@never_cache
@require_GET
def saml_continue(request: HttpRequest, token: str) -> HttpResponse:
    """Back on our own site with the session cookie, after the Assertion Consumer Service."""
    return continue_saml(request, token)
