"""SAML 2.0 for SSO connections: pysaml2 as the service provider, held to the checks we need.

pysaml2 verifies the XML signature (with Debian's ``xmlsec1``), the audience, the time window and,
given the requests we have outstanding, ``InResponseTo``. It checks the subject confirmation's
``Recipient`` only when it is given the conversation, so it always is. What it leaves open is
checked here, before and after it:

- before: the document is parsed with ``defusedxml`` (no DTD, no entities), must hold exactly one
  assertion (so a signed assertion moved beside an unsigned one is refused) and no encrypted one
  (we publish no encryption key, so we could not decrypt it);
- after: the ``Destination`` is our Assertion Consumer Service, the issuer is the connection's
  identity provider, the assertion is signed, and its ID has not been seen before (replays within
  its validity window; ``sso.models.SamlAssertion``).

Trust comes from the connection alone: its identity provider's entity ID, its single sign-on URL
and at most two signing certificates (rollover), written into the metadata pysaml2 is given.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import shutil
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape, quoteattr

from cryptography import x509
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as safe_fromstring
from django.conf import settings
from django.urls import reverse

if TYPE_CHECKING:
    from .models import SsoConnection

NS = {
    "md": "urn:oasis:names:tc:SAML:2.0:metadata",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
    "samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
}
BINDING_REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
BINDING_POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
NAMEID = "NameID"  # a username "attribute" that means the assertion's subject NameID
MAX_CERTIFICATES = 2  # the current one and the next (or previous), while the provider rotates
MAX_DOCUMENT_BYTES = 512 * 1024
CLOCK_SKEW_SECONDS = 60


class SamlRejected(Exception):
    """The identity provider's answer (or metadata) failed a check; ``reason`` names which."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass(frozen=True)
class IdpMetadata:
    """What the portal keeps of an identity provider's SAML metadata."""

    entity_id: str
    sso_url: str
    certificates: tuple[str, ...]  # base64 DER, as in the metadata


@dataclass(frozen=True)
class SamlAnswer:
    """A verified assertion: who the identity provider vouched for."""

    issuer: str
    assertion_id: str
    in_response_to: str
    name_id: str
    attributes: dict[str, list[str]]
    not_on_or_after: float  # when the assertion stops being valid (epoch seconds)


# --- names of our service provider --------------------------------------------------------------

def sp_entity_id(connection: SsoConnection) -> str:
    """The SP entity ID to register at the identity provider (also where our metadata is)."""
    return settings.PUBLIC_URL + reverse("sso:saml_metadata", args=[connection.provider_id])


def acs_url(connection: SsoConnection) -> str:
    """The Assertion Consumer Service URL (reply URL) to register at the identity provider."""
    return settings.PUBLIC_URL + reverse("sso:saml_acs", args=[connection.provider_id])


# --- the identity provider's metadata -----------------------------------------------------------

def parse_certificate(text: str) -> str:
    """``text`` (base64 DER, or PEM) as one line of base64 DER; ``SamlRejected`` if it is no certificate."""
    body = "".join(line for line in text.strip().splitlines() if "-----" not in line)
    body = "".join(body.split())
    try:
        x509.load_der_x509_certificate(base64.b64decode(body, validate=True))
    except (binascii.Error, ValueError) as exc:
        raise SamlRejected("certificate", "not an X.509 certificate") from exc
    return body


def describe_certificate(certificate: str) -> tuple[str, str, str]:
    """The subject, end of validity and SHA-256 fingerprint of a kept certificate, to show."""
    from cryptography.hazmat.primitives import hashes

    loaded = x509.load_der_x509_certificate(base64.b64decode(certificate))
    fingerprint = loaded.fingerprint(hashes.SHA256()).hex(":").upper()
    return loaded.subject.rfc4514_string(), f"{loaded.not_valid_after_utc:%Y-%m-%d}", fingerprint


def parse_metadata(document: bytes | str) -> IdpMetadata:
    """The entity ID, HTTP-Redirect single sign-on URL and signing certificates of IdP metadata."""
    root = parse_xml(document)
    entities = [root] if root.tag == f"{{{NS['md']}}}EntityDescriptor" else \
        root.findall("md:EntityDescriptor", NS)
    entities = [e for e in entities if e.find("md:IDPSSODescriptor", NS) is not None]
    if len(entities) != 1:
        raise SamlRejected("metadata", "expected the metadata of one identity provider")
    entity = entities[0]
    idp = entity.find("md:IDPSSODescriptor", NS)
    sso_url = next((s.get("Location", "") for s in idp.findall("md:SingleSignOnService", NS)
                    if s.get("Binding") == BINDING_REDIRECT), "")
    if not sso_url:
        raise SamlRejected("metadata", "no single sign-on service with the HTTP-Redirect binding")
    certificates: list[str] = []
    for descriptor in idp.findall("md:KeyDescriptor", NS):
        if descriptor.get("use", "signing") != "signing":
            continue
        for element in descriptor.iterfind(".//ds:X509Certificate", NS):
            certificate = parse_certificate(element.text or "")
            if certificate not in certificates:
                certificates.append(certificate)
    if not certificates:
        raise SamlRejected("metadata", "no signing certificate")
    return IdpMetadata(entity_id=entity.get("entityID", ""), sso_url=sso_url,
                       certificates=tuple(certificates[:MAX_CERTIFICATES]))


def rolled_over(kept: list[str], published: tuple[str, ...]) -> list[str]:
    """The certificates to accept after the provider published ``published``: those, then the newest
    one kept from before if there is room, so a signature by the outgoing certificate still passes
    while the provider rotates."""
    certificates = list(published[:MAX_CERTIFICATES])
    for previous in kept:
        if len(certificates) < MAX_CERTIFICATES and previous not in certificates:
            certificates.append(previous)
    return certificates


def fetch_metadata(url: str) -> bytes:
    """The metadata document at ``url``, fetched only from public addresses (SECURITY.md 45)."""
    import requests

    from .outbound import guard

    with guard(requests.Session()) as session:
        response = session.get(url, timeout=settings.SOCIALACCOUNT_REQUESTS_TIMEOUT, stream=True)
        response.raise_for_status()
        body = response.raw.read(MAX_DOCUMENT_BYTES + 1, decode_content=True)
    if len(body) > MAX_DOCUMENT_BYTES:
        raise SamlRejected("metadata", "the document is too large")
    return body


def _idp_metadata_xml(connection: SsoConnection) -> str:
    keys = "".join(
        '<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>'
        f"{escape(certificate)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
        for certificate in connection.saml_certificates
    )
    return (
        f'<md:EntityDescriptor xmlns:md="{NS["md"]}" xmlns:ds="{NS["ds"]}" '
        f"entityID={quoteattr(connection.saml_idp_entity_id)}>"
        f'<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
        f"{keys}<md:SingleSignOnService Binding={quoteattr(BINDING_REDIRECT)} "
        f"Location={quoteattr(connection.saml_sso_url)}/>"
        "</md:IDPSSODescriptor></md:EntityDescriptor>"
    )


# --- the service provider -----------------------------------------------------------------------

def xmlsec_binary() -> str:
    found = shutil.which("xmlsec1")
    if not found:
        raise RuntimeError("SAML needs the xmlsec1 program: apt-get install xmlsec1")
    return found


def client(connection: SsoConnection):
    """A pysaml2 service provider for ``connection``, trusting only what the connection holds."""
    from saml2 import config
    from saml2.client import Saml2Client

    sp = config.SPConfig()
    sp.load({
        "entityid": sp_entity_id(connection),
        "xmlsec_binary": xmlsec_binary(),
        "accepted_time_diff": CLOCK_SKEW_SECONDS,
        # Read at the top level only (pysaml2 ignores it under "sp"): never a key the response carries.
        "only_use_keys_in_metadata": True,
        "metadata": {"inline": [_idp_metadata_xml(connection)]},
        "service": {"sp": {
            "endpoints": {"assertion_consumer_service": [(acs_url(connection), BINDING_POST)]},
            "allow_unsolicited": False,
            "authn_requests_signed": False,
            "want_assertions_signed": True,
            "want_response_signed": False,
        }},
    })
    return Saml2Client(config=sp)


def sp_metadata(connection: SsoConnection) -> str:
    """Our SAML metadata for ``connection``: entity ID and Assertion Consumer Service."""
    from saml2.metadata import entity_descriptor

    return str(entity_descriptor(client(connection).config))


def authn_request(connection: SsoConnection, *, relay_state: str, login_hint: str = "") -> tuple[str, str]:
    """A new AuthnRequest to the connection's identity provider: its ID and the URL to send the browser to.

    The ``login_hint`` goes as the request's ``Subject`` is not widely honoured; Entra ID and Okta
    read ``login_hint`` from the query string instead, so it is added there.
    """
    from urllib.parse import urlencode

    request_id, info = client(connection).prepare_for_authenticate(
        entityid=connection.saml_idp_entity_id, relay_state=relay_state, binding=BINDING_REDIRECT)
    location = dict(info["headers"])["Location"]
    if login_hint:
        location += "&" + urlencode({"login_hint": login_hint})
    return request_id, location


def parse_xml(document: bytes | str):
    """``document`` parsed, refusing DTDs, entities and external references (defusedxml)."""
    if len(document) > MAX_DOCUMENT_BYTES:
        raise SamlRejected("too_large")
    try:
        return safe_fromstring(document, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise SamlRejected("dtd", type(exc).__name__) from exc
    except Exception as exc:  # ParseError, and whatever a broken document makes expat raise
        raise SamlRejected("malformed", type(exc).__name__) from exc


def decode_response(encoded: str) -> tuple[bytes, str]:
    """The XML of a posted ``SAMLResponse`` and the request it says it answers (``InResponseTo``).

    Only the shape is looked at here: nothing is trusted before ``verify_response``.
    """
    try:
        document = base64.b64decode(encoded.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeError) as exc:
        raise SamlRejected("malformed", "not base64") from exc
    root = parse_xml(document)
    if root.tag != f"{{{NS['samlp']}}}Response":
        raise SamlRejected("malformed", "not a SAML response")
    if root.findall(".//saml:EncryptedAssertion", NS):
        raise SamlRejected("encrypted", "encrypted assertions cannot be decrypted: we hold no key")
    if len(root.findall(".//saml:Assertion", NS)) != 1 or len(root.findall("saml:Assertion", NS)) != 1:
        raise SamlRejected("assertion_count", "exactly one assertion, directly in the response")
    return document, root.get("InResponseTo", "")


def verify_response(connection: SsoConnection, document: bytes, *, request_id: str,
                    remote_addr: str, now: float | None = None) -> SamlAnswer:
    """The assertion in ``document`` (from ``decode_response``), verified for ``request_id``.

    pysaml2 checks the time window against the clock; it is checked again here against ``now``.
    """
    import saml2

    now = time.time() if now is None else now
    sp = client(connection)
    encoded = base64.b64encode(document).decode("ascii")
    try:
        response = sp.parse_authn_request_response(
            encoded, saml2.BINDING_HTTP_POST, outstanding={request_id: "signin"},
            conv_info={"remote_addr": remote_addr})
    except SamlRejected:
        raise
    except Exception as exc:  # pysaml2 raises many types, and some plain Exceptions
        raise SamlRejected(_reason(exc, document, connection, now),
                           f"{type(exc).__name__}: {exc}"[:300]) from exc
    if response is None:
        raise SamlRejected("invalid", "no response")
    message = response.response
    if message.destination != acs_url(connection):
        raise SamlRejected("destination", repr(message.destination))
    if message.in_response_to != request_id or response.in_response_to != request_id:
        raise SamlRejected("in_response_to", repr(message.in_response_to))
    assertion = response.assertion
    if assertion is None or assertion.signature is None:
        raise SamlRejected("unsigned")
    issuer = assertion.issuer.text.strip() if assertion.issuer is not None and assertion.issuer.text else ""
    if issuer != connection.saml_idp_entity_id:
        raise SamlRejected("issuer", repr(issuer))
    if message.issuer is not None and (message.issuer.text or "").strip() not in ("", issuer):
        raise SamlRejected("issuer", repr(message.issuer.text))
    audiences = [audience.text for restriction in assertion.conditions.audience_restriction
                 for audience in restriction.audience] if assertion.conditions else []
    if sp_entity_id(connection) not in audiences:
        raise SamlRejected("audience", repr(audiences))
    valid_until = _check_time_window(assertion, now)
    name_id = response.name_id.text.strip() if response.name_id is not None and response.name_id.text else ""
    # By their full names, as the providers' mappings name them (pysaml2's ``ava`` renames some).
    attributes: dict[str, list[str]] = {}
    for statement in assertion.attribute_statement:
        for attribute in statement.attribute:
            attributes[attribute.name] = [str(value.text or "") for value in attribute.attribute_value]
    return SamlAnswer(issuer=issuer, assertion_id=assertion.id, in_response_to=request_id,
                      name_id=name_id, attributes=attributes,
                      not_on_or_after=valid_until)


def _epoch(instant: str | None) -> float | None:
    from saml2.time_util import str_to_time

    if not instant:
        return None
    return calendar.timegm(str_to_time(instant))


def _check_time_window(assertion, now: float) -> float:
    """When the assertion stops being valid; ``SamlRejected`` unless ``now`` lies within its
    conditions and its bearer confirmation, give or take the clock skew."""
    conditions = assertion.conditions
    not_before = _epoch(conditions.not_before) if conditions else None
    ends = [_epoch(conditions.not_on_or_after) if conditions else None]
    for confirmation in assertion.subject.subject_confirmation if assertion.subject else []:
        data = confirmation.subject_confirmation_data
        ends.append(_epoch(data.not_on_or_after) if data is not None else None)
    ends = [end for end in ends if end is not None]
    if not ends:
        raise SamlRejected("expired", "the assertion has no end of validity")
    if not_before is not None and now + CLOCK_SKEW_SECONDS < not_before:
        raise SamlRejected("expired", "not valid yet")
    if now - CLOCK_SKEW_SECONDS >= min(ends):
        raise SamlRejected("expired", "no longer valid")
    return min(ends)


def _reason(exc: Exception, document: bytes, connection: SsoConnection, now: float) -> str:
    """Which check an answer pysaml2 refused failed, for the audit trail.

    pysaml2 says "Condition not OK" for the audience and the time window alike, so the (untrusted,
    already refused) document is looked at to tell them apart.
    """
    name = type(exc).__name__
    text = str(exc).lower()
    if name == "MissingKey":
        return "issuer"  # signed by, or naming, an identity provider this connection does not trust
    if "condition" in text:
        root = parse_xml(document)
        audiences = [a.text for a in root.iterfind(".//saml:Conditions//saml:Audience", NS)]
        if sp_entity_id(connection) not in audiences:
            return "audience"
        return "expired"
    if "signature" in name.lower() or "signature" in text or "signed" in text:
        return "signature"
    if "audience" in text:
        return "audience"
    if "unsolicited" in name.lower() or "don't recall" in text:
        return "unsolicited"
    if ("timeout" in name.lower() or name == "ToEarly" or "too old" in text or "not_on_or_after" in text
            or "expired" in text):
        return "expired"
    if "recipient" in text:
        return "recipient"
    if "destination" in text:
        return "destination"
    return "invalid"
