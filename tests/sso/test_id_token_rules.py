"""The ID token rules of sso/oidc.py, one at a time, against a provider whose keys the test holds.

The provider here is a small HTTP server on 127.0.0.1 that publishes a discovery document, a key set
and a userinfo answer the test chooses; the tokens are signed by hand with the test's own keys. Each
test says what the verifier decides and which check the audit trail would name (``reason``).
"""

import json
import time
from types import SimpleNamespace

import jwt
import pytest
import requests
from allauth.socialaccount.models import SocialApp, SocialToken
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.contrib.sites.models import Site
from django.test import RequestFactory
from werkzeug.wrappers import Request, Response

from sso.oidc import MitelOIDCAdapter, TokenRejected
from tests.loopback import serve

pytestmark = pytest.mark.django_db

CLIENT_ID = "portal-client-id"
PROVIDER_ID = "mitel-990001"
SUB = "person-1"
ACCESS_TOKEN = "access-token-of-this-sign-in"  # the only one the userinfo endpoint answers

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
NEXT_RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEYS = {"ES256": ec.generate_private_key(ec.SECP256R1()),
           "ES384": ec.generate_private_key(ec.SECP384R1()),
           "ES512": ec.generate_private_key(ec.SECP521R1())}
SHARED_SECRET = "a-secret-shared-with-nobody-at-all-" * 2
SHARED_SECRET_JWK = jwt.utils.base64url_encode(SHARED_SECRET.encode()).decode()
ALL_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]


def public_jwk(private_key, kid: str, **fields) -> dict:
    rsa_key = isinstance(private_key, rsa.RSAPrivateKey)
    kind = jwt.algorithms.RSAAlgorithm if rsa_key else jwt.algorithms.ECAlgorithm
    return {**kind.to_jwk(private_key.public_key(), as_dict=True), "kid": kid, **fields}


class KeyServer:
    """Discovery, key set and userinfo of one provider; each document is what the test sets."""

    def __init__(self) -> None:
        self.server, self.thread = serve(self.app)
        self.reset()

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def reset(self) -> None:
        self.algorithms: list[str] | None = ["RS256"]
        self.key_set: dict = {"keys": [public_jwk(RSA_KEY, "k1", use="sig", alg="RS256")]}
        self.userinfo: object = {"sub": SUB}
        self.discovery_issuer: str | None = None

    def discovery(self) -> dict:
        document = {"issuer": self.discovery_issuer or self.issuer, "jwks_uri": f"{self.issuer}/jwks",
                    "userinfo_endpoint": f"{self.issuer}/userinfo"}
        if self.algorithms is not None:
            document["id_token_signing_alg_values_supported"] = self.algorithms
        return document

    @Request.application
    def app(self, request: Request) -> Response:
        body = {"/.well-known/openid-configuration": self.discovery, "/jwks": lambda: self.key_set,
                "/userinfo": lambda: self.userinfo}.get(request.path)
        if body is None:
            return Response(status=404)
        if request.path == "/userinfo" and request.headers.get("Authorization") != f"Bearer {ACCESS_TOKEN}":
            # As a real provider: userinfo answers only to the access token it issued.
            return Response(status=401, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        return Response(json.dumps(body()), content_type="application/json")

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture(scope="module")
def key_server():
    server = KeyServer()
    yield server
    server.stop()


@pytest.fixture
def provider(key_server):
    """The provider, its SocialApp (as sso.services.connections saves one) and a fresh verifier."""
    key_server.reset()
    app = SocialApp.objects.create(provider="openid_connect", provider_id=PROVIDER_ID, name="Customer",
                                   client_id=CLIENT_ID, secret="s3cret",
                                   settings={"server_url": key_server.issuer, "fetch_userinfo": True})
    app.sites.add(Site.objects.get_current())

    def verifier() -> MitelOIDCAdapter:
        return MitelOIDCAdapter(RequestFactory().get("/"), PROVIDER_ID)

    yield SimpleNamespace(server=key_server, app=app, verifier=verifier)
    key_server.reset()


def claims(server: KeyServer, **changes) -> dict:
    now = int(time.time())
    values = {"iss": server.issuer, "sub": SUB, "aud": CLIENT_ID, "exp": now + 300, "iat": now} | changes
    return {key: value for key, value in values.items() if value is not None}


def signed(server: KeyServer, *, key=RSA_KEY, algorithm: str = "RS256", kid: str | None = "k1",
           **changes) -> str:
    headers = {"kid": kid} if kid is not None else {}
    return jwt.encode(claims(server, **changes), key, algorithm=algorithm, headers=headers)


def verify(provider, raw: str) -> dict:
    return provider.verifier().verify_id_token(provider.app, raw)


def refusal(provider, raw: str) -> TokenRejected:
    with pytest.raises(TokenRejected) as caught:
        verify(provider, raw)
    return caught.value


# --- algorithms ----------------------------------------------------------------------------------

def key_for(algorithm: str):
    return EC_KEYS.get(algorithm, RSA_KEY)


@pytest.mark.parametrize("algorithm", ALL_ALGORITHMS)
def test_each_asymmetric_algorithm_the_provider_offers_is_accepted(provider, algorithm):
    provider.server.algorithms = [algorithm]
    provider.server.key_set = {"keys": [public_jwk(key_for(algorithm), "k1", use="sig", alg=algorithm)]}
    token = verify(provider, signed(provider.server, key=key_for(algorithm), algorithm=algorithm))
    assert token["sub"] == SUB


@pytest.mark.parametrize("algorithm", ["HS256", "HS384", "HS512"])
def test_a_symmetric_algorithm_is_refused_even_when_the_provider_offers_it(provider, algorithm):
    provider.server.algorithms = ["RS256", algorithm]
    provider.server.key_set = {"keys": [{"kty": "oct", "k": SHARED_SECRET_JWK,
                                         "kid": "k1", "alg": algorithm}]}
    raw = jwt.encode(claims(provider.server), SHARED_SECRET, algorithm=algorithm,
                     headers={"kid": "k1"})
    error = refusal(provider, raw)
    assert error.reason == "algorithm" and repr(algorithm) in str(error)


def test_an_algorithm_the_provider_does_not_offer_is_refused(provider):
    provider.server.algorithms = ["RS256"]
    provider.server.key_set = {"keys": [public_jwk(RSA_KEY, "k1")]}
    assert refusal(provider, signed(provider.server, algorithm="RS512")).reason == "algorithm"


def test_a_provider_that_names_no_algorithms_is_held_to_rs256(provider):
    provider.server.algorithms = None
    provider.server.key_set = {"keys": [public_jwk(RSA_KEY, "k1")]}
    assert verify(provider, signed(provider.server))["sub"] == SUB
    assert refusal(provider, signed(provider.server, algorithm="PS256")).reason == "algorithm"


def test_an_unsigned_token_is_refused(provider):
    header = jwt.utils.base64url_encode(json.dumps({"alg": "none", "kid": "k1"}).encode()).decode()
    body = jwt.utils.base64url_encode(json.dumps(claims(provider.server)).encode()).decode()
    assert refusal(provider, f"{header}.{body}.").reason == "algorithm"


@pytest.mark.parametrize(("raw", "why"), [("not-a-token", "Not enough segments"),
                                          ("a.b.c", "Invalid header padding"),
                                          ("eyJhbGciOiJSUzI1NiJ9", "Not enough segments")])
def test_a_malformed_token_is_refused_saying_why(provider, raw, why):
    assert str(refusal(provider, raw)) == f"malformed_id_token: {why}"


# --- keys ----------------------------------------------------------------------------------------

def test_a_token_without_a_key_id_is_refused(provider):
    error = refusal(provider, signed(provider.server, kid=None))
    assert error.reason == "unknown_key" and str(error) == "unknown_key: no kid"


def test_a_token_under_a_key_id_never_published_is_refused(provider):
    assert str(TokenRejected("unknown_key")) == "unknown_key"  # what the audit trail records
    error = refusal(provider, signed(provider.server, kid="k9"))
    assert error.reason == "unknown_key" and str(error) == "unknown_key: 'k9'"


def test_after_key_rotation_a_token_signed_with_the_new_key_is_accepted(provider):
    """Providers publish the old and the new key side by side; either may be the one in use."""
    provider.server.key_set = {"keys": [public_jwk(RSA_KEY, "old", use="sig", alg="RS256"),
                                        public_jwk(NEXT_RSA_KEY, "new", use="sig", alg="RS256")]}
    assert verify(provider, signed(provider.server, key=NEXT_RSA_KEY, kid="new"))["sub"] == SUB
    assert verify(provider, signed(provider.server, key=RSA_KEY, kid="old"))["sub"] == SUB


def test_a_key_published_after_entries_that_are_not_keys_is_found(provider):
    provider.server.key_set = {"keys": ["not a key", {"kid": "k1", "use": "enc"},
                                        public_jwk(RSA_KEY, "k1", use="sig")]}
    assert verify(provider, signed(provider.server))["sub"] == SUB


def test_a_key_published_for_encryption_only_does_not_verify_signatures(provider):
    provider.server.key_set = {"keys": [public_jwk(RSA_KEY, "k1", use="enc", alg="RS256")]}
    assert refusal(provider, signed(provider.server)).reason == "unknown_key"


def test_a_key_without_a_use_verifies_signatures(provider):
    provider.server.key_set = {"keys": [public_jwk(RSA_KEY, "k1")]}
    assert verify(provider, signed(provider.server))["sub"] == SUB


def test_a_key_published_for_another_algorithm_is_refused(provider):
    provider.server.algorithms = ["RS256", "RS512"]
    provider.server.key_set = {"keys": [public_jwk(RSA_KEY, "k1", use="sig", alg="RS512")]}
    error = refusal(provider, signed(provider.server, algorithm="RS256"))
    assert error.reason == "algorithm" and str(error) == "algorithm: RS256 does not match key k1"


def test_a_key_of_another_type_than_the_algorithm_is_refused(provider):
    provider.server.algorithms = ["RS256", "ES256"]
    provider.server.key_set = {"keys": [public_jwk(EC_KEYS["ES256"], "k1", use="sig")]}
    assert str(refusal(provider, signed(provider.server, algorithm="RS256"))) == "unknown_key: Not an RSA key"


def test_a_key_set_without_keys_is_refused(provider):
    provider.server.key_set = {"something": "else"}
    assert refusal(provider, signed(provider.server)).reason == "unknown_key"


def test_a_token_signed_with_another_key_under_the_published_kid_is_refused(provider):
    error = refusal(provider, signed(provider.server, key=NEXT_RSA_KEY))
    assert str(error) == "signature: Signature verification failed"


def test_a_discovery_document_for_another_issuer_is_refused(provider):
    provider.server.discovery_issuer = "https://login.example/other"
    assert refusal(provider, signed(provider.server)).reason == "discovery_issuer"


# --- claims --------------------------------------------------------------------------------------

@pytest.mark.parametrize("claim", ["iss", "sub", "aud", "exp", "iat"])
def test_a_token_missing_a_required_claim_is_refused(provider, claim):
    assert refusal(provider, signed(provider.server, **{claim: None})).reason in {
        "invalid_id_token", "issuer", "audience"}


def test_a_token_missing_sub_or_iat_is_refused_as_invalid(provider):
    assert str(refusal(provider, signed(provider.server, sub=None))) == \
        'invalid_id_token: Token is missing the "sub" claim'
    assert str(refusal(provider, signed(provider.server, iat=None))) == \
        'invalid_id_token: Token is missing the "iat" claim'


def test_a_token_of_another_issuer_is_refused(provider):
    assert str(refusal(provider, signed(provider.server, iss="https://elsewhere.example"))) == \
        "issuer: Invalid issuer"


def test_a_token_expired_within_the_clock_skew_is_accepted(provider):
    now = int(time.time())
    assert verify(provider, signed(provider.server, exp=now - 58, iat=now - 600))["sub"] == SUB


def test_a_token_expired_for_longer_than_the_clock_skew_is_refused(provider):
    now = int(time.time())
    assert str(refusal(provider, signed(provider.server, exp=now - 60, iat=now - 600))) == \
        "expired: Signature has expired"


def test_a_token_issued_slightly_in_the_future_is_accepted(provider):
    now = int(time.time())
    assert verify(provider, signed(provider.server, iat=now + 30))["sub"] == SUB


# --- audiences -----------------------------------------------------------------------------------

def test_a_plain_string_audience_naming_this_client_is_accepted(provider):
    assert verify(provider, signed(provider.server, aud=CLIENT_ID))["aud"] == CLIENT_ID


def test_a_one_element_audience_list_is_accepted(provider):
    assert verify(provider, signed(provider.server, aud=[CLIENT_ID]))["aud"] == [CLIENT_ID]


def test_several_audiences_are_accepted_when_azp_names_this_client(provider):
    token = verify(provider, signed(provider.server, aud=[CLIENT_ID, "other"], azp=CLIENT_ID))
    assert token["azp"] == CLIENT_ID


@pytest.mark.parametrize("azp", [None, "other"])
def test_several_audiences_are_refused_unless_azp_names_this_client(provider, azp):
    error = refusal(provider, signed(provider.server, aud=[CLIENT_ID, "other"], azp=azp))
    assert str(error) == "audience: several audiences and azp is not this client"


def test_an_audience_of_another_client_is_refused(provider):
    assert str(refusal(provider, signed(provider.server, aud="another-client"))) == \
        "audience: Audience doesn't match"


# --- the whole answer: ID token and userinfo ----------------------------------------------------

def complete(provider, response: dict, *, token: str = ACCESS_TOKEN):
    request = RequestFactory().get("/")
    return provider.verifier().complete_login(request, provider.app, SocialToken(token=token),
                                              response=response)


def test_an_answer_without_an_id_token_is_refused(provider):
    with pytest.raises(TokenRejected) as caught:
        complete(provider, {"access_token": ACCESS_TOKEN})
    assert caught.value.reason == "no_id_token" and str(caught.value) == "no_id_token"


def test_userinfo_about_the_same_person_completes_the_login(provider):
    provider.server.userinfo = {"sub": SUB, "name": "Pat Doe"}
    login = complete(provider, {"id_token": signed(provider.server)})
    assert login.account.uid == SUB
    # What the claims are read from later (sso/claims.py): Okta names the user in userinfo only.
    assert login.account.extra_data["userinfo"] == {"sub": SUB, "name": "Pat Doe"}
    assert login.account.extra_data["id_token"]["sub"] == SUB


def test_userinfo_is_asked_for_with_this_sign_ins_access_token(provider):
    """The provider answers userinfo only for the access token it issued; any other is refused (401),
    and a refused userinfo request ends the login instead of completing it without userinfo."""
    provider.server.userinfo = {"sub": SUB, "name": "Pat Doe"}
    assert complete(provider, {"id_token": signed(provider.server)}).account.extra_data["userinfo"]["name"] \
        == "Pat Doe"
    with pytest.raises(requests.HTTPError) as caught:
        complete(provider, {"id_token": signed(provider.server)}, token="another-access-token")
    assert caught.value.response.status_code == 401


@pytest.mark.parametrize("userinfo", [{"sub": "someone-else"}, {"name": "no subject"}, ["a", "list"]])
def test_userinfo_about_another_person_is_refused(provider, userinfo):
    provider.server.userinfo = userinfo
    with pytest.raises(TokenRejected) as caught:
        complete(provider, {"id_token": signed(provider.server)})
    assert caught.value.reason == "userinfo_subject"


def test_userinfo_is_checked_when_the_connection_does_not_say_whether_to_fetch_it(provider):
    provider.app.settings = {"server_url": provider.server.issuer}
    provider.app.save()
    provider.server.userinfo = {"sub": "someone-else"}
    with pytest.raises(TokenRejected) as caught:
        complete(provider, {"id_token": signed(provider.server)})
    assert caught.value.reason == "userinfo_subject"


# --- which apps are ours, and where their providers send people back ---------------------------

def test_a_mitel_connections_provider_names_our_callback_not_allauths(provider):
    from sso.oidc import MitelOIDCProvider

    mitel_provider = MitelOIDCProvider(RequestFactory().get("/"), app=provider.app)
    assert mitel_provider.get_callback_url() == f"/sso/{PROVIDER_ID}/callback/"
    assert provider.verifier().get_callback_url(RequestFactory().get("/"), provider.app) == \
        f"http://testserver/sso/{PROVIDER_ID}/callback/"


@pytest.mark.parametrize(("kind", "provider_id", "ours"), [
    ("openid_connect", "mitel-100003", True),
    ("openid_connect", "contoso", False),
    ("openid_connect", "xmitel-100003", False),
    ("google", "mitel-100003", False),
])
def test_only_openid_connect_apps_named_for_a_mitel_account_are_ours(kind, provider_id, ours):
    from sso.oidc import is_mitel_app

    assert is_mitel_app(SocialApp(provider=kind, provider_id=provider_id)) is ours
    assert is_mitel_app(None) is False


def test_a_connection_that_does_not_fetch_userinfo_completes_from_the_id_token_alone(provider):
    provider.app.settings = {"server_url": provider.server.issuer, "fetch_userinfo": False}
    provider.app.save()
    provider.server.userinfo = {"sub": "someone-else"}  # never asked for
    login = complete(provider, {"id_token": signed(provider.server)})
    assert login.account.uid == SUB
