"""A real SAML 2.0 identity provider (pysaml2's ``Server``) on 127.0.0.1, and helpers around it.

Each provider is an HTTP server in a thread with the endpoints an identity provider has: its metadata
(``/metadata``) and its single sign-on service (``/sso``, HTTP-Redirect binding). The single sign-on
service parses our AuthnRequest, "signs in" the user the test chose, and answers with a page that
posts a signed SAML response to the Assertion Consumer Service the request names (HTTP-POST binding),
as Entra ID and Okta do. Knobs make it behave like a given identity provider, or a broken one:

- ``shape``: ``"entra"`` (username in the ``.../claims/name`` attribute, the object ID as
  attribute, a persistent NameID, the assertion signed) or ``"okta"`` (the e-mail address as NameID,
  the response and the assertion signed);
- ``sign_assertion`` / ``sign_response``, ``audience`` (another SP entity ID), ``lifetime_minutes``
  (negative: already expired), and ``rotate_key()`` (a new signing certificate).

It can be served under a host name other than 127.0.0.1 (``host``), so that in a browser its form
post to the portal is cross-site, as it is in production.
"""

from __future__ import annotations

import base64
import datetime
import html
import re
import tempfile
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2 import BINDING_HTTP_REDIRECT, saml
from saml2.config import IdPConfig
from saml2.metadata import entity_descriptor
from saml2.server import Server
from werkzeug.wrappers import Request, Response

from sso.saml import xmlsec_binary
from tests.loopback import serve

ENTRA_NAME = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"
ENTRA_OBJECT_ID = "http://schemas.microsoft.com/identity/claims/objectidentifier"
ENTRA_EMAIL = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"


def make_key_pair(directory: Path, name: str) -> tuple[Path, Path]:
    """A new RSA key and self-signed certificate, as PEM files in ``directory``."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(days=1))
                   .not_valid_after(now + datetime.timedelta(days=365))
                   .sign(key, hashes.SHA256()))
    key_file, cert_file = directory / f"{name}.key", directory / f"{name}.pem"
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return key_file, cert_file


def certificate_b64(cert_file: Path) -> str:
    return "".join(line for line in cert_file.read_text().splitlines() if "-----" not in line)


class IdentityProvider:
    """One pysaml2 identity provider on 127.0.0.1, on a free port."""

    def __init__(self, name: str, *, shape: str, host: str = "127.0.0.1") -> None:
        self.name, self.shape, self.host = name, shape, host
        self.directory = Path(tempfile.mkdtemp(prefix=f"saml-idp-{name}-"))
        self.key_file, self.cert_file = make_key_pair(self.directory, f"{name}-1")
        self.users: dict[str, dict] = {}
        self.sp_metadata: list[str] = []  # the service providers it knows (our SP metadata)
        self.signed_in: str | None = None
        self.server, self.thread = serve(self.wsgi)
        self.reset()

    # --- what tests set up --------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.server.server_port}"

    @property
    def entity_id(self) -> str:
        return self.claimed_entity_id or f"{self.base_url}/{self.name}"

    @property
    def metadata_url(self) -> str:
        return f"{self.base_url}/metadata"

    @property
    def certificate(self) -> str:
        return certificate_b64(self.cert_file)

    def know_service_provider(self, metadata: str, *, entity_id: str | None = None) -> None:
        """Trust a service provider, from its metadata; ``entity_id`` renames it (another service)."""
        if entity_id is not None:
            metadata = re.sub(r'entityID="[^"]*"', f'entityID="{entity_id}"', metadata, count=1)
        self.sp_metadata.append(metadata)

    def add_user(self, key: str, *, name_id: str, attributes: dict[str, list[str]] | None = None) -> None:
        self.users[key] = {"name_id": name_id, "attributes": attributes or {}}

    def sign_in_as(self, key: str) -> None:
        """The user the next single sign-on answers for (the person at the provider's own page)."""
        self.signed_in = key

    def rotate_key(self) -> tuple[Path, Path]:
        """Publish and sign with a new key and certificate from now on, as a provider rolling over
        does; returns the previous pair (``sign_with`` it to answer with the outgoing certificate)."""
        previous = self.key_file, self.cert_file
        self.generation = getattr(self, "generation", 1) + 1
        self.key_file, self.cert_file = make_key_pair(self.directory, f"{self.name}-{self.generation}")
        return previous

    def sign_with(self, pair: tuple[Path, Path]) -> None:
        self.key_file, self.cert_file = pair

    def reset(self) -> None:
        self.sign_assertion = True
        self.sign_response = self.shape == "okta"
        self.audience: str | None = None  # another service provider's entity ID (it must know it)
        self.claimed_entity_id: str | None = None  # pose as another identity provider
        self.encrypt_for: Path | None = None  # a certificate to encrypt the assertion for
        self.lifetime_minutes = 5
        self.signed_in = None

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(5)

    # --- the provider -------------------------------------------------------------------------

    def config(self) -> IdPConfig:
        config = IdPConfig()
        config.load({
            "entityid": self.entity_id,
            "xmlsec_binary": xmlsec_binary(),
            "key_file": str(self.key_file),
            "cert_file": str(self.cert_file),
            "accepted_time_diff": 60,
            **({"metadata": {"inline": list(self.sp_metadata)}} if self.sp_metadata else {}),
            "service": {"idp": {
                "endpoints": {"single_sign_on_service": [(f"{self.base_url}/sso", BINDING_HTTP_REDIRECT)]},
                "policy": {"default": {"lifetime": {"minutes": self.lifetime_minutes},
                                       "attribute_restrictions": None,
                                       "name_form": "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"}},
                "want_authn_requests_signed": False,
            }},
        })
        return config

    def metadata(self) -> str:
        return str(entity_descriptor(self.config()))

    def answer(self, saml_request: str, relay_state: str) -> tuple[str, str, str]:
        """The Assertion Consumer Service URL, the base64 SAMLResponse and the RelayState for a request."""
        server = Server(config=self.config())
        request = server.parse_authn_request(saml_request, BINDING_HTTP_REDIRECT).message
        acs = request.assertion_consumer_service_url
        return acs, self.respond(request.id, acs, request.issuer.text), relay_state

    def respond(self, in_response_to: str | None, acs_url: str, sp_entity_id: str) -> str:
        """A base64 SAMLResponse for the signed-in user, answering ``in_response_to`` (None: unsolicited)."""
        server = Server(config=self.config())
        user = self.users[self.signed_in]
        name_format = (saml.NAMEID_FORMAT_EMAILADDRESS if self.shape == "okta"
                       else saml.NAMEID_FORMAT_PERSISTENT)
        response = server.create_authn_response(
            identity=user["attributes"],
            in_response_to=in_response_to,
            destination=acs_url,
            sp_entity_id=self.audience or sp_entity_id,
            name_id=saml.NameID(format=name_format, text=user["name_id"]),
            authn={"class_ref": saml.AUTHN_PASSWORD_PROTECTED},
            sign_assertion=self.sign_assertion,
            sign_response=self.sign_response,
            **({"encrypt_assertion": True, "encrypt_cert_assertion": self.encrypt_for.read_text()}
               if self.encrypt_for else {}),
        )
        return base64.b64encode(str(response).encode()).decode()

    def unsolicited(self, acs_url: str, sp_entity_id: str) -> dict[str, str]:
        """An IdP-initiated answer, to no request of ours: the fields its page would post."""
        return {"SAMLResponse": self.respond(None, acs_url, sp_entity_id), "RelayState": ""}

    def wsgi(self, environ, start_response):
        request = Request(environ)
        if request.path == "/metadata":
            response = Response(self.metadata(), content_type="application/samlmetadata+xml")
        elif request.path == "/sso":
            acs, saml_response, relay_state = self.answer(request.args["SAMLRequest"],
                                                          request.args.get("RelayState", ""))
            response = Response(post_form(acs, saml_response, relay_state), content_type="text/html")
        else:
            response = Response("not found", status=404)
        return response(environ, start_response)


def post_form(action: str, saml_response: str, relay_state: str) -> str:
    """The page an identity provider answers with: a form posting the response to the portal."""
    return (
        '<!doctype html><html lang="en"><head><title>Test identity provider</title></head><body>'
        f'<form method="post" action="{html.escape(action)}">'
        f'<input type="hidden" name="SAMLResponse" value="{html.escape(saml_response)}">'
        f'<input type="hidden" name="RelayState" value="{html.escape(relay_state)}">'
        '<button type="submit">Continue to Mitel</button></form></body></html>'
    )


def answer_from(idp: IdentityProvider, location: str) -> tuple[str, dict[str, str]]:
    """What the provider's page would post for the redirect to ``location``: ACS URL and form fields."""
    query = parse_qs(urlsplit(location).query)
    acs, saml_response, relay_state = idp.answer(query["SAMLRequest"][0], query.get("RelayState", [""])[0])
    return acs, {"SAMLResponse": saml_response, "RelayState": relay_state}


def fetch_metadata(idp: IdentityProvider) -> str:
    return requests.get(idp.metadata_url, timeout=5).text


# --- driving the portal with the Django test client -----------------------------------------------

def post_cross_site(client, acs_url: str, fields: dict[str, str]):
    """The provider's page posting to our Assertion Consumer Service from another site: the browser's
    ``SameSite=Lax`` session cookie does not come with it, so the post is made without cookies."""
    from django.test import Client

    parts = urlsplit(acs_url)
    assert parts.netloc == "testserver", acs_url
    return Client().post(parts.path, fields)


def come_back(client, idp: IdentityProvider, location: str, *, edit=None):
    """The provider answers the AuthnRequest at ``location``; its answer is posted cross-site and the
    browser follows the redirect on our site with its cookies. Returns (ACS response, last response).

    ``edit`` rewrites the posted fields first (an attacker's or a broken provider's answer).
    """
    acs, fields = answer_from(idp, location)
    if edit is not None:
        fields = edit(fields)
    posted = post_cross_site(client, acs, fields)
    if posted.status_code != 303:
        return posted, posted
    return posted, client.get(posted["Location"])
