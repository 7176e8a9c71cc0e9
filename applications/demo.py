"""A demo application (relying party) at ``/demo-app/``, on for ``make run`` (``DEMO_APP``, DEBUG).

It is what any Mitel application would be: an OpenID Connect client (Authlib) that reaches the
provider only over HTTP, at the origin it was opened on, with PKCE and a nonce, and keeps its own
state in its own signed cookies, never in the portal's session. ``seed_demo`` registers it.
"""

import secrets

import requests
from django.conf import settings
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache

CLIENT_ID = "mitel-demo-app"
SCOPE = "openid profile email mitel"
LOGIN_COOKIE = "demo_app_login"  # state, nonce and PKCE verifier between login and callback
SIGNED_IN_COOKIE = "demo_app"  # what the application knows of who signed in
TIMEOUT = 5


def provider(request: HttpRequest) -> dict:
    """The provider's discovery document, fetched over HTTP like any application would."""
    origin = request.build_absolute_uri("/").rstrip("/")
    return requests.get(f"{origin}/.well-known/openid-configuration", timeout=TIMEOUT).json()


def client(request: HttpRequest, **kwargs):
    # Authlib comes with the development requirements: imported only when the demo is on.
    from authlib.integrations.requests_client import OAuth2Session

    return OAuth2Session(CLIENT_ID, scope=SCOPE, token_endpoint_auth_method="none",
                         redirect_uri=request.build_absolute_uri("/demo-app/callback/"),
                         code_challenge_method="S256", **kwargs)


def read_cookie(request: HttpRequest, name: str) -> dict | None:
    try:
        return signing.loads(request.COOKIES[name], salt=name)
    except (KeyError, signing.BadSignature):
        return None


def write_cookie(request: HttpRequest, response: HttpResponse, name: str, value: dict,
                 max_age: int | None = None) -> None:
    response.set_cookie(name, signing.dumps(value, salt=name, compress=True), max_age=max_age,
                        httponly=True, samesite="Lax", secure=request.is_secure())


def demo_only(view):
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not settings.DEMO_APP:
            raise Http404("The demo application is off.")
        return view(request, *args, **kwargs)
    return never_cache(wrapped)


@demo_only
def home(request: HttpRequest) -> HttpResponse:
    return TemplateResponse(request, "applications/demo_app.html",
                            {"signed_in": read_cookie(request, SIGNED_IN_COOKIE)})


@demo_only
def login(request: HttpRequest) -> HttpResponse:
    config = provider(request)
    verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
    url, state = client(request).create_authorization_url(
        config["authorization_endpoint"], code_verifier=verifier, nonce=nonce)
    response = HttpResponseRedirect(url)
    write_cookie(request, response, LOGIN_COOKIE,
                 {"state": state, "nonce": nonce, "verifier": verifier}, max_age=600)
    return response


@demo_only
def callback(request: HttpRequest) -> HttpResponse:
    login_state = read_cookie(request, LOGIN_COOKIE)
    if login_state is None:
        return HttpResponseRedirect("/demo-app/")
    if "error" in request.GET or request.GET.get("state") != login_state["state"]:
        return TemplateResponse(request, "applications/demo_app.html",
                                {"error": request.GET.get("error", "state_mismatch")}, status=400)
    config = provider(request)
    session = client(request, state=login_state["state"])
    token = session.fetch_token(config["token_endpoint"],
                                authorization_response=request.build_absolute_uri(),
                                code_verifier=login_state["verifier"])
    from authlib.jose import JsonWebKey, jwt
    from authlib.oidc.core import CodeIDToken

    keys = JsonWebKey.import_key_set(requests.get(config["jwks_uri"], timeout=TIMEOUT).json())
    claims = jwt.decode(token["id_token"], keys, claims_cls=CodeIDToken,
                        claims_options={"iss": {"essential": True, "value": config["issuer"]}},
                        claims_params={"nonce": login_state["nonce"], "client_id": CLIENT_ID})
    claims.validate()
    userinfo = session.get(config["userinfo_endpoint"], timeout=TIMEOUT).json()
    response = HttpResponseRedirect("/demo-app/")
    write_cookie(request, response, SIGNED_IN_COOKIE,
                 {"id_token": token["id_token"], "claims": dict(claims), "userinfo": userinfo})
    response.delete_cookie(LOGIN_COOKIE)
    return response


@demo_only
def logout(request: HttpRequest) -> HttpResponse:
    """RP-Initiated Logout: forget who signed in here, and ask the provider to sign out too."""
    response = HttpResponseRedirect("/demo-app/")
    signed_in = read_cookie(request, SIGNED_IN_COOKIE)
    if signed_in is not None:
        query = urlencode({"id_token_hint": signed_in["id_token"], "client_id": CLIENT_ID,
                           "post_logout_redirect_uri": request.build_absolute_uri("/demo-app/")})
        response = HttpResponseRedirect(f"{provider(request)['end_session_endpoint']}?{query}")
    response.delete_cookie(SIGNED_IN_COOKIE)
    return response


urlpatterns = [
    path("demo-app/", home, name="demo_app"),
    path("demo-app/login/", login, name="demo_app_login"),
    path("demo-app/callback/", callback, name="demo_app_callback"),
    path("demo-app/logout/", logout, name="demo_app_logout"),
]
