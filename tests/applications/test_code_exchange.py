"""The code exchange, in-process: what the provider checks about a code, and what it costs.

The validator reads a code's row once per request (``applications/validator.py``) where the library
read it for each question: these hold the checks that read it (whose code, which redirect URI,
PKCE, expiry) and the queries of an application's sign-in (issue 17).
"""

import base64
import hashlib
import secrets
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from oauth2_provider.models import get_grant_model

from accounts.models import Application, AuditEvent, User
from tests import signin as steps
from tests.signin import sign_in

pytestmark = pytest.mark.django_db

Grant = get_grant_model()
SECRET = "a-secret-the-test-knows-" + "x" * 20
CALLBACK = "https://app.mitel.example/callback"


@pytest.fixture
def confidential(demo) -> Application:
    return Application.objects.create(
        slug="meetings-oidc", name="MiTeam Meetings", home_url="https://app.mitel.example/",
        client_type=Application.CLIENT_CONFIDENTIAL, client_secret=SECRET,
        redirect_uris=f"{CALLBACK} https://app.mitel.example/other", skip_authorization=True)


@pytest.fixture
def public(demo) -> Application:
    return Application.objects.create(
        slug="partner-spa", name="Partner Dashboard", home_url="https://spa.partner.example/",
        client_type=Application.CLIENT_PUBLIC, redirect_uris="https://spa.partner.example/cb",
        skip_authorization=True)


def authorize_query(application: Application, *, verifier: str | None, redirect_uri: str) -> str:
    params = {"response_type": "code", "client_id": application.client_id, "scope": "openid mitel",
              "redirect_uri": redirect_uri, "state": "s", "nonce": "n"}
    if verifier is not None:
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
        params |= {"code_challenge": challenge.decode(), "code_challenge_method": "S256"}
    return f"/o/authorize/?{urlencode(params)}"


def code_for(browser: Client, application: Application, *, verifier: str | None = None,
             redirect_uri: str | None = None) -> str:
    """alice signs in from the application's authorize request; the code it is sent back."""
    redirect_uri = redirect_uri or application.redirect_uris.split()[0]
    url = authorize_query(application, verifier=verifier, redirect_uri=redirect_uri)
    answer = browser.get(url)
    if not browser.session.get("_auth_user_id"):
        assert answer.status_code == 302 and answer["Location"].startswith("/signin/")
        sign_in(browser, "alice@acme.example", next=url, app=application.slug)
        answer = browser.get(url)
    assert answer.status_code == 302 and answer["Location"].startswith(redirect_uri), answer
    return parse_qs(urlsplit(answer["Location"]).query)["code"][0]


def exchange(application: Application, code: str, *, verifier: str | None = None,
             redirect_uri: str | None = None, secret: str | None = None):
    """The application's server exchanges the code: a client of its own, none of the browser's
    cookies."""
    form = {"grant_type": "authorization_code", "code": code,
            "redirect_uri": redirect_uri or application.redirect_uris.split()[0],
            "client_id": application.client_id}
    if verifier is not None:
        form["code_verifier"] = verifier
    if application.client_type == Application.CLIENT_CONFIDENTIAL:
        form["client_secret"] = secret or SECRET
    return Client().post("/o/token/", form)


def test_a_code_is_exchanged_once_for_tokens(confidential):
    verifier = secrets.token_urlsafe(48)
    code = code_for(Client(), confidential, verifier=verifier)
    first = exchange(confidential, code, verifier=verifier)
    assert first.status_code == 200 and "id_token" in first.json()
    again = exchange(confidential, code, verifier=verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_a_code_of_another_application_is_refused(confidential, public):
    verifier = secrets.token_urlsafe(48)
    code = code_for(Client(), confidential, verifier=verifier)
    stolen = Client().post("/o/token/", {
        "grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK,
        "client_id": public.client_id, "code_verifier": verifier})
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    # Refusing it did not use it up: its own application still gets its tokens.
    assert exchange(confidential, code, verifier=verifier).status_code == 200


def test_another_application_replaying_a_used_code_revokes_nothing_of_its_own(confidential, public):
    """A code is bound to the application it was issued to: replayed by another one it is refused
    like any stranger's, and the tokens its own application got stay valid (a reuse by the code's
    own application revokes them: test_code_flow.py)."""
    import jwt

    verifier = secrets.token_urlsafe(48)
    code = code_for(Client(), confidential, verifier=verifier)
    token = exchange(confidential, code, verifier=verifier).json()
    stolen = Client().post("/o/token/", {
        "grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK,
        "client_id": public.client_id, "code_verifier": verifier})
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    refreshed = Client().post("/o/token/", {
        "grant_type": "refresh_token", "refresh_token": token["refresh_token"],
        "client_id": confidential.client_id, "client_secret": SECRET})
    assert refreshed.status_code == 200
    claims = jwt.decode(refreshed.json()["id_token"], options={"verify_signature": False})
    assert claims["mitel_account"]["number"] == "100001"
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.TOKENS_REVOKED).exists()


def test_each_code_gives_the_account_of_its_own_sign_in(confidential):
    """Two people sign in to the same application, Alice in Acme and then Bob in Globex: each
    code's tokens name the account chosen in that sign-in, whichever is exchanged first."""
    import jwt

    alices = code_for(Client(), confidential)
    bob = Client()
    url = authorize_query(confidential, verifier=None, redirect_uri=CALLBACK)
    assert bob.get(url)["Location"].startswith("/signin/")
    steps.enter_username(bob, "bob@multi.example", next=url, app=confidential.slug)
    steps.choose_account(bob, account="100002")
    steps.enter_password(bob, steps.DEMO_PASSWORD)
    steps.stay_signed_in(bob)
    answer = bob.get(url)
    bobs = parse_qs(urlsplit(answer["Location"]).query)["code"][0]
    named = []
    for code in (bobs, alices):
        token = exchange(confidential, code).json()
        claims = jwt.decode(token["id_token"], options={"verify_signature": False})
        named.append((claims["sub"], claims["mitel_account"]["number"]))
    users = {user.username: str(user.sub) for user in User.objects.all()}
    assert named == [(users["bob@multi.example"], "100002"), (users["alice@acme.example"], "100001")]


def test_a_code_sent_to_one_redirect_uri_is_refused_at_another(confidential):
    verifier = secrets.token_urlsafe(48)
    code = code_for(Client(), confidential, verifier=verifier)
    moved = exchange(confidential, code, verifier=verifier, redirect_uri="https://app.mitel.example/other")
    assert moved.status_code == 400 and moved.json()["error"] == "invalid_request"


def test_an_expired_code_is_refused(confidential):
    verifier = secrets.token_urlsafe(48)
    code = code_for(Client(), confidential, verifier=verifier)
    Grant.objects.filter(code=code).update(expires=timezone.now() - timedelta(seconds=1))
    late = exchange(confidential, code, verifier=verifier)
    assert late.status_code == 400 and late.json()["error"] == "invalid_grant"


def test_the_nonce_of_the_authorize_request_is_in_the_id_token(confidential):
    import jwt

    verifier = secrets.token_urlsafe(48)
    token = exchange(confidential, code_for(Client(), confidential, verifier=verifier),
                     verifier=verifier).json()
    claims = jwt.decode(token["id_token"], options={"verify_signature": False})
    assert claims["nonce"] == "n" and claims["mitel_account"]["number"] == "100001"


def test_a_confidential_client_may_leave_pkce_out_a_public_one_may_not(confidential, public):
    code = code_for(Client(), confidential, verifier=None)
    assert exchange(confidential, code).status_code == 200

    browser = Client()
    sign_in(browser, "alice@acme.example")
    refused = browser.get(authorize_query(public, verifier=None, redirect_uri=public.redirect_uris))
    assert refused.status_code == 302
    assert parse_qs(urlsplit(refused["Location"]).query)["error"] == ["invalid_request"]
    # PKCE left out at the exchange of a code that was asked for with it.
    verifier = secrets.token_urlsafe(48)
    code = code_for(browser, public, verifier=verifier)
    missing = exchange(public, code)
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
    wrong = exchange(public, code, verifier=secrets.token_urlsafe(48))
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"


def test_the_queries_of_an_applications_sign_in(confidential):
    """Exact counts, as tests/accounts/test_signin_queries.py does for the sign-in itself (inside
    the test's transaction, where the library's transactions are savepoints). The authorize request
    of a signed-in person: their session, user and accounts, the application as the library loads
    it for each of its steps, the code and the sign-in behind it; 11 before the validator answered
    PKCE from the loaded application. The exchange: the application, the code's row, the sign-in
    with its account, the roles, the ID, access and refresh tokens, the sign-in's token family, the
    "token issued" event, the code deleted, the access token read for the library's signal; 25
    before the code's row was read once."""
    browser = Client()
    verifier = secrets.token_urlsafe(48)
    code_for(browser, confidential, verifier=verifier)
    url = authorize_query(confidential, verifier=verifier, redirect_uri=CALLBACK)
    with CaptureQueriesContext(connection) as authorize:
        answer = browser.get(url)
    code = parse_qs(urlsplit(answer["Location"]).query)["code"][0]
    with CaptureQueriesContext(connection) as token:
        assert exchange(confidential, code, verifier=verifier).status_code == 200
    reads_of_the_code = [q["sql"] for q in token.captured_queries
                         if q["sql"].startswith("SELECT") and '"oauth2_provider_grant"' in q["sql"]]
    assert len(reads_of_the_code) == 2, "once by the validator, once by the library as it saves"
    assert (len(authorize.captured_queries), len(token.captured_queries)) == (9, 18)
