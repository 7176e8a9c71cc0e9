"""The checks of ``sso.saml`` one by one: metadata, certificates, the document's shape, and the answers
a real identity provider (pysaml2, tests/sso/saml_idp.py) signs, altered where the signature does not
cover them. The end-to-end journeys are in test_saml_signin.py; here each rule is held to its edge."""

import base64
import calendar
import gzip
import re
import time

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from saml2 import saml as saml_types
from saml2.response import StatusAuthnFailed, UnsolicitedResponse, VerificationError
from saml2.sigver import MissingKey, SignatureError
from saml2.time_util import str_to_time
from saml2.validate import ToEarly
from werkzeug.wrappers import Request, Response

from sso import saml
from sso.models import SsoConnection
from tests.loopback import serve

from .saml_idp import answer_from, certificate_b64, make_key_pair

pytestmark = pytest.mark.django_db

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    """Three certificates (base64 DER, as metadata carries them) and the PEM of the first."""
    directory = tmp_path_factory.mktemp("certificates")
    pems = [make_key_pair(directory, f"idp-{n}")[1] for n in (1, 2, 3)]
    return [certificate_b64(pem) for pem in pems], pems[0].read_text()


# --- refusals say which check failed --------------------------------------------------------------

def test_a_refusal_names_its_check_and_says_why_when_told():
    assert str(saml.SamlRejected("expired", "not valid yet")) == "expired: not valid yet"
    assert str(saml.SamlRejected("unsigned")) == "unsigned"
    assert saml.SamlRejected("issuer", "'x'").reason == "issuer"


# --- certificates ----------------------------------------------------------------------------------

def test_a_certificate_is_kept_as_one_line_of_base64_whether_given_as_pem_or_wrapped(certificates):
    (first, _second, _third), pem = certificates
    assert saml.parse_certificate(pem) == first
    wrapped = "\n".join(first[i:i + 64] for i in range(0, len(first), 64))
    assert saml.parse_certificate(f"  {wrapped}\n\t") == first
    assert saml.parse_certificate(first[:100] + " \r\n " + first[100:]) == first


@pytest.mark.parametrize("text", [
    "not a certificate",
    base64.b64encode(b"base64, but of no certificate").decode(),
    "",
], ids=["not-base64", "not-der", "empty"])
def test_what_is_no_certificate_is_refused(text):
    with pytest.raises(saml.SamlRejected) as refused:
        saml.parse_certificate(text)
    assert str(refused.value) == "certificate: not an X.509 certificate"


def test_a_certificate_with_a_stray_character_is_refused_not_repaired(certificates):
    (first, _second, _third), _pem = certificates
    with pytest.raises(saml.SamlRejected) as refused:
        saml.parse_certificate(first[:40] + "!" + first[40:])
    assert str(refused.value) == "certificate: not an X.509 certificate"


def test_a_kept_certificate_is_described_as_the_identity_providers_own_pages_show_it(certificates):
    (first, _second, _third), pem = certificates
    loaded = x509.load_pem_x509_certificate(pem.encode())
    fingerprint = ":".join(f"{byte:02X}" for byte in loaded.fingerprint(hashes.SHA256()))
    assert saml.describe_certificate(first) == (
        "CN=idp-1", loaded.not_valid_after_utc.strftime("%Y-%m-%d"), fingerprint)


# --- the identity provider's metadata ------------------------------------------------------------

def key_descriptor(certificate: str, use: str | None = "signing") -> str:
    use_attribute = f' use="{use}"' if use else ""
    return (f"<md:KeyDescriptor{use_attribute}><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{certificate}"
            "</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>")


def entity(entity_id: str, *, keys: str = "", services: str | None = None,
           role: str = "IDPSSODescriptor") -> str:
    if services is None:
        services = f'<md:SingleSignOnService Binding="{REDIRECT}" Location="https://idp.example/sso"/>'
    return (f'<md:EntityDescriptor entityID="{entity_id}"><md:{role} '
            f'protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">{keys}{services}'
            f"</md:{role}></md:EntityDescriptor>")


def document(*entities: str, several: bool = False) -> str:
    namespaces = f'xmlns:md="{MD}" xmlns:ds="{DS}"'
    if several or len(entities) != 1:
        return f"<md:EntitiesDescriptor {namespaces}>{''.join(entities)}</md:EntitiesDescriptor>"
    return entities[0].replace("<md:EntityDescriptor ", f"<md:EntityDescriptor {namespaces} ", 1)


def test_metadata_gives_the_entity_id_the_redirect_sign_on_url_and_the_signing_certificates(certificates):
    (first, second, _third), _pem = certificates
    services = (f'<md:SingleSignOnService Binding="{POST}" Location="https://idp.example/post"/>'
                f'<md:SingleSignOnService Binding="{REDIRECT}" Location="https://idp.example/redirect"/>')
    metadata = saml.parse_metadata(document(entity(
        "https://idp.example/entity",
        keys=key_descriptor(first) + key_descriptor(second, use=None), services=services)))
    assert metadata == saml.IdpMetadata(entity_id="https://idp.example/entity",
                                        sso_url="https://idp.example/redirect", certificates=(first, second))


def test_the_one_identity_provider_is_found_among_other_entities(certificates):
    (first, _second, _third), _pem = certificates
    metadata = saml.parse_metadata(document(
        entity("https://sp.example/", keys=key_descriptor(first), role="SPSSODescriptor"),
        entity("https://idp.example/entity", keys=key_descriptor(first))))
    assert metadata.entity_id == "https://idp.example/entity"
    one = saml.parse_metadata(document(entity("https://idp.example/only", keys=key_descriptor(first)),
                                       several=True))
    assert one.entity_id == "https://idp.example/only"


def test_metadata_naming_no_entity_id_gives_none_to_trust(certificates):
    """Without an entityID the connection has no issuer to hold answers to: it stays incomplete
    (``SsoConnection.is_ready``), and no made-up name stands in."""
    (first, _second, _third), _pem = certificates
    nameless = document(entity("https://idp.example/", keys=key_descriptor(first))).replace(
        ' entityID="https://idp.example/"', "", 1)
    assert "entityID" not in nameless
    assert saml.parse_metadata(nameless).entity_id == ""


@pytest.mark.parametrize("build", [
    lambda c: document(entity("https://a.example/", keys=key_descriptor(c)),
                       entity("https://b.example/", keys=key_descriptor(c))),
    lambda c: document(entity("https://sp.example/", keys=key_descriptor(c), role="SPSSODescriptor")),
    lambda c: document(entity("https://sp.example/", keys=key_descriptor(c), role="SPSSODescriptor"),
                       several=True),
], ids=["two-identity-providers", "a-service-provider", "no-identity-provider"])
def test_metadata_of_other_than_one_identity_provider_is_refused(certificates, build):
    (first, _second, _third), _pem = certificates
    with pytest.raises(saml.SamlRejected) as refused:
        saml.parse_metadata(build(first))
    assert str(refused.value) == "metadata: expected the metadata of one identity provider"


def test_metadata_without_a_redirect_sign_on_service_is_refused(certificates):
    (first, _second, _third), _pem = certificates
    for services in (f'<md:SingleSignOnService Binding="{POST}" Location="https://idp.example/post"/>',
                     f'<md:SingleSignOnService Binding="{REDIRECT}"/>'):
        with pytest.raises(saml.SamlRejected) as refused:
            saml.parse_metadata(document(entity("https://idp.example/", keys=key_descriptor(first),
                                                services=services)))
        assert str(refused.value) == "metadata: no single sign-on service with the HTTP-Redirect binding"


def test_encryption_keys_are_not_trusted_to_sign(certificates):
    (first, second, _third), _pem = certificates
    metadata = saml.parse_metadata(document(entity(
        "https://idp.example/", keys=key_descriptor(second, use="encryption") + key_descriptor(first))))
    assert metadata.certificates == (first,)
    with pytest.raises(saml.SamlRejected) as refused:
        saml.parse_metadata(document(entity("https://idp.example/",
                                            keys=key_descriptor(second, use="encryption"))))
    assert str(refused.value) == "metadata: no signing certificate"


def test_a_certificate_published_twice_counts_once_and_at_most_two_are_kept(certificates):
    (first, second, third), _pem = certificates
    twice = saml.parse_metadata(document(entity(
        "https://idp.example/", keys=key_descriptor(first) + key_descriptor(first) + key_descriptor(second))))
    assert twice.certificates == (first, second)
    three = saml.parse_metadata(document(entity(
        "https://idp.example/", keys=key_descriptor(first) + key_descriptor(second) + key_descriptor(third))))
    assert three.certificates == (first, second)


@pytest.mark.parametrize(("metadata", "said"), [
    ('<!DOCTYPE m [<!ENTITY e SYSTEM "file:///etc/passwd">]><m>&e;</m>', "dtd: DTDForbidden"),
    ("<md:EntityDescriptor", "malformed: ParseError"),
])
def test_metadata_that_is_no_safe_xml_is_refused_saying_why(metadata, said):
    """What the contact is shown in the Connect Portal (the refusal, in the form's error)."""
    with pytest.raises(saml.SamlRejected) as refused:
        saml.parse_metadata(metadata)
    assert str(refused.value) == said


def test_a_broken_certificate_in_metadata_is_refused(certificates):
    with pytest.raises(saml.SamlRejected) as refused:
        saml.parse_metadata(document(entity("https://idp.example/", keys=key_descriptor("bm90IGEgY2VydA=="))))
    assert str(refused.value) == "certificate: not an X.509 certificate"


@pytest.mark.parametrize(("kept", "published", "accepted"), [
    (["old"], ("new",), ["new", "old"]),
    (["older", "old"], ("new",), ["new", "older"]),
    (["same"], ("same",), ["same"]),
    (["old"], ("new", "next"), ["new", "next"]),
    (["old"], ("a", "b", "c"), ["a", "b"]),
    ([], ("new",), ["new"]),
])
def test_rollover_keeps_a_previous_certificate_only_while_there_is_room_for_two(kept, published, accepted):
    assert saml.rolled_over(kept, published) == accepted


# --- metadata fetched by URL ------------------------------------------------------------------------

class MetadataServer:
    """Serves one document the test sets, optionally gzip-encoded, or a 404."""

    def __init__(self) -> None:
        self.body, self.gzip, self.status = b"", False, 200
        # Seconds to wait before answering at all, or after sending the body, before ending it.
        self.wait_before, self.wait_after = 0.0, 0.0
        self.server, self.thread = serve(self.app)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/metadata"

    @Request.application
    def app(self, request: Request) -> Response:
        time.sleep(self.wait_before)
        if self.gzip:
            return Response(gzip.compress(self.body), status=self.status,
                            headers={"Content-Encoding": "gzip"})
        if self.wait_after:
            body, wait = self.body, self.wait_after

            def stalling():
                yield body
                time.sleep(wait)  # the connection stays open, as if more were coming

            return Response(stalling(), status=self.status)
        return Response(self.body, status=self.status)


@pytest.fixture(scope="module")
def metadata_server():
    server = MetadataServer()
    yield server
    server.server.shutdown()
    server.thread.join(5)


def padded(body: str, size: int) -> bytes:
    """``body`` with an XML comment making it ``size`` bytes long."""
    filler = size - len(body.encode()) - len("<!---->")
    return (body + "<!--" + "x" * filler + "-->").encode()


def test_metadata_is_fetched_up_to_the_size_limit_and_not_beyond(settings, metadata_server, certificates):
    settings.SSO_ALLOW_LOOPBACK_ISSUERS = True
    (first, _second, _third), _pem = certificates
    body = document(entity("https://idp.example/", keys=key_descriptor(first)))
    metadata_server.body = padded(body, saml.MAX_DOCUMENT_BYTES)
    fetched = saml.fetch_metadata(metadata_server.url)
    assert len(fetched) == saml.MAX_DOCUMENT_BYTES
    assert saml.parse_metadata(fetched).certificates == (first,)
    metadata_server.body = padded(body, saml.MAX_DOCUMENT_BYTES + 1)
    with pytest.raises(saml.SamlRejected) as refused:
        saml.fetch_metadata(metadata_server.url)
    assert str(refused.value) == "metadata: the document is too large"


def test_a_metadata_url_that_sends_too_much_is_refused_without_waiting_for_the_rest(
        settings, metadata_server, certificates):
    """An address that sends past the limit and keeps the connection open (an endless document)
    is refused as soon as the limit is passed, not once the server stops sending."""
    settings.SSO_ALLOW_LOOPBACK_ISSUERS = True
    settings.SOCIALACCOUNT_REQUESTS_TIMEOUT = 10
    (first, _second, _third), _pem = certificates
    body = document(entity("https://idp.example/", keys=key_descriptor(first)))
    metadata_server.body, metadata_server.wait_after = padded(body, saml.MAX_DOCUMENT_BYTES + 1), 4
    started = time.monotonic()
    try:
        with pytest.raises(saml.SamlRejected, match="too large"):
            saml.fetch_metadata(metadata_server.url)
        assert time.monotonic() - started < 2
    finally:
        metadata_server.wait_after = 0


def test_a_metadata_url_that_does_not_answer_is_given_up_after_the_timeout(settings, metadata_server):
    """The contact's page waits at most ``SOCIALACCOUNT_REQUESTS_TIMEOUT`` for an address that
    accepts the connection and says nothing, and the set-up then says the fetch failed."""
    settings.SSO_ALLOW_LOOPBACK_ISSUERS = True
    settings.SOCIALACCOUNT_REQUESTS_TIMEOUT = 0.5
    metadata_server.body, metadata_server.wait_before = b"<late/>", 4
    started = time.monotonic()
    try:
        with pytest.raises(requests.Timeout):
            saml.fetch_metadata(metadata_server.url)
        assert time.monotonic() - started < 2
    finally:
        metadata_server.wait_before = 0


def test_gzip_encoded_metadata_is_read_as_the_document_it_encodes(settings, metadata_server, certificates):
    settings.SSO_ALLOW_LOOPBACK_ISSUERS = True
    (first, _second, _third), _pem = certificates
    metadata_server.body = document(entity("https://idp.example/", keys=key_descriptor(first))).encode()
    metadata_server.gzip = True
    try:
        assert saml.parse_metadata(saml.fetch_metadata(metadata_server.url)).certificates == (first,)
    finally:
        metadata_server.gzip = False


def test_a_metadata_url_that_answers_an_error_is_an_error_not_a_document(settings, metadata_server):
    settings.SSO_ALLOW_LOOPBACK_ISSUERS = True
    metadata_server.body, metadata_server.status = b"<html>not here</html>", 404
    try:
        with pytest.raises(requests.HTTPError):
            saml.fetch_metadata(metadata_server.url)
    finally:
        metadata_server.status = 200


# --- the document's shape -------------------------------------------------------------------------

def encoded(text: str | bytes) -> str:
    return base64.b64encode(text.encode() if isinstance(text, str) else text).decode()


SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"


@pytest.mark.parametrize(("posted", "reason"), [
    ("not base64 at all!", "malformed"),
    ("SAMLResponse\u00e9", "malformed"),
    (encoded("<not xml"), "malformed"),
    (encoded(f'<samlp:AuthnRequest xmlns:samlp="{SAMLP}"/>'), "malformed"),
    (encoded(f'<samlp:Response xmlns:samlp="{SAMLP}"/>'), "assertion_count"),
    (encoded(f'<samlp:Response xmlns:samlp="{SAMLP}" xmlns:saml="{SAML}"><saml:Advice>'
             f'<saml:Assertion/></saml:Advice></samlp:Response>'), "assertion_count"),
    (encoded(f'<samlp:Response xmlns:samlp="{SAMLP}" xmlns:saml="{SAML}"><saml:Assertion/><saml:Assertion/>'
             "</samlp:Response>"), "assertion_count"),
    (encoded(f'<samlp:Response xmlns:samlp="{SAMLP}" xmlns:saml="{SAML}"><saml:EncryptedAssertion/>'
             "</samlp:Response>"), "encrypted"),
    (encoded(f'<samlp:Response xmlns:samlp="{SAMLP}" xmlns:saml="{SAML}"><saml:Assertion/>'
             "<saml:EncryptedAssertion/></samlp:Response>"), "encrypted"),
    (encoded('<!DOCTYPE r [<!ENTITY e "x">]><r>&e;</r>'), "dtd"),
    ("*".join(encoded(f'<samlp:Response xmlns:samlp="{SAMLP}" xmlns:saml="{SAML}"><saml:Assertion/>'
                      "</samlp:Response>").partition("c")[::2]).replace("*", "*c"), "malformed"),
], ids=["not-base64", "not-ascii", "not-xml", "a-request", "no-assertion", "only-nested", "two",
        "encrypted", "encrypted-beside", "entity", "base64-with-a-stray-character"])
def test_a_posted_answer_of_the_wrong_shape_is_refused_before_anything_is_verified(posted, reason):
    with pytest.raises(saml.SamlRejected) as refused:
        saml.decode_response(posted)
    assert refused.value.reason == reason


def test_an_answer_of_the_right_shape_gives_its_document_and_the_request_it_answers():
    text = (f'<samlp:Response xmlns:samlp="{SAMLP}" xmlns:saml="{SAML}" InResponseTo="id-123">'
            "<saml:Assertion/></samlp:Response>")
    assert saml.decode_response(encoded(text)) == (text.encode(), "id-123")
    without = text.replace(' InResponseTo="id-123"', "")
    assert saml.decode_response(encoded(without)) == (without.encode(), "")


def test_a_document_is_parsed_up_to_the_size_limit_and_refused_beyond():
    body = f'<samlp:Response xmlns:samlp="{SAMLP}" xmlns:saml="{SAML}"><saml:Assertion/></samlp:Response>'
    assert saml.parse_xml(padded(body, saml.MAX_DOCUMENT_BYTES)).tag == f"{{{SAMLP}}}Response"
    with pytest.raises(saml.SamlRejected) as refused:
        saml.parse_xml(padded(body, saml.MAX_DOCUMENT_BYTES + 1))
    assert refused.value.reason == "too_large"


# --- answers signed by a real identity provider -----------------------------------------------------

ENTRA_NAME = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"


@pytest.fixture
def contoso(saml_sso):
    """Contoso's connection and Entra ID-shaped provider (the assertion signed, the response not)."""
    saml_sso.contoso.sign_in_as("erin")
    return SsoConnection.objects.get(account__account_number="100003"), saml_sso.contoso


def answer(connection, idp) -> tuple[str, str]:
    """A new request of ours and the provider's answer to it: (request ID, the response's XML)."""
    request_id, location = saml.authn_request(connection, relay_state="state")
    _acs, fields = answer_from(idp, location)
    return request_id, base64.b64decode(fields["SAMLResponse"]).decode()


def verify(connection, request_id: str, xml: str, now: float | None = None) -> saml.SamlAnswer:
    return saml.verify_response(connection, xml.encode(), request_id=request_id, remote_addr="127.0.0.1",
                                now=now)


def refused(connection, request_id: str, xml: str, now: float | None = None) -> saml.SamlRejected:
    with pytest.raises(saml.SamlRejected) as caught:
        verify(connection, request_id, xml, now)
    return caught.value


def test_a_verified_answer_gives_who_the_provider_vouched_for(contoso):
    connection, idp = contoso
    request_id, xml = answer(connection, idp)
    verified = verify(connection, request_id, xml)
    assertion_id = re.search(r"<(\w+:)?Assertion\b[^>]*\bID=\"([^\"]+)\"", xml).group(2)
    ends = [calendar.timegm(str_to_time(v)) for v in re.findall(r'NotOnOrAfter="([^"]+)"', xml)]
    assert verified == saml.SamlAnswer(
        issuer=idp.entity_id, assertion_id=assertion_id, in_response_to=request_id,
        name_id="AAAAAAAAAAAAAAAAAAAAAEdHz4-erin",
        attributes={ENTRA_NAME: ["Erin@Contoso.example"],
                    "http://schemas.microsoft.com/identity/claims/objectidentifier": ["6d1f0c5e-erin"],
                    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress":
                        ["erin.evans@contoso.example"]},
        not_on_or_after=min(ends))


def test_a_request_without_a_login_hint_adds_none_to_the_address(contoso):
    """Entra ID and Okta read ``login_hint`` from the query string: without one, none is sent (an
    empty or made-up hint would fill in the provider's sign-in page)."""
    from urllib.parse import parse_qs, urlsplit

    connection, _idp = contoso
    hint = "erin@contoso.example"
    _request_id, location = saml.authn_request(connection, relay_state="state")
    assert sorted(parse_qs(urlsplit(location).query, keep_blank_values=True)) == ["RelayState", "SAMLRequest"]
    _request_id, hinted = saml.authn_request(connection, relay_state="state", login_hint=hint)
    assert parse_qs(urlsplit(hinted).query)["login_hint"] == [hint]


def issuer_of_response(xml: str, text: str | None) -> str:
    """``xml`` with the response's own Issuer (outside the signed assertion) set to ``text``, or
    removed (None)."""
    pattern = r"(<(\w+:)?Issuer\b[^>]*>)[^<]*(</(\w+:)?Issuer>)"
    assert re.search(pattern, xml).start() < re.search(r"<(\w+:)?Assertion\b", xml).start()
    if text is None:
        return re.sub(pattern, "", xml, count=1)
    return re.sub(pattern, lambda m: m.group(1) + text + m.group(3), xml, count=1)


def test_the_responses_own_issuer_may_be_absent_or_the_assertions_but_no_other(contoso):
    connection, idp = contoso
    request_id, xml = answer(connection, idp)
    assert verify(connection, request_id, issuer_of_response(xml, None)).issuer == idp.entity_id
    assert verify(connection, request_id, issuer_of_response(xml, f"  {idp.entity_id}\n")).issuer \
        == idp.entity_id
    other = refused(connection, request_id, issuer_of_response(xml, "https://rogue.example/idp"))
    assert other.reason == "issuer" and "rogue.example" in str(other)


def test_an_answer_without_a_destination_is_refused(contoso):
    """Destination is in the (unsigned) response: without it, an answer meant for another service
    provider of the same identity provider could be replayed at ours."""
    connection, idp = contoso
    request_id, xml = answer(connection, idp)
    stripped = re.sub(r' Destination="[^"]*"', "", xml, count=1)
    assert stripped != xml
    assert str(refused(connection, request_id, stripped)) == "destination: None"


def test_an_answer_naming_another_destination_is_refused_saying_which(contoso):
    """pysaml2 lets a Destination other than ours through; we refuse it, and the audit trail says where."""
    connection, idp = contoso
    request_id, xml = answer(connection, idp)
    ours = re.search(r' Destination="([^"]*)"', xml).group(1)
    elsewhere = xml.replace(f'Destination="{ours}"', 'Destination="https://elsewhere.example/acs"', 1)
    assert str(refused(connection, request_id, elsewhere)) == "destination: 'https://elsewhere.example/acs'"


def test_a_response_issued_long_ago_yields_no_verified_assertion(contoso):
    """The response's own IssueInstant (outside the signed assertion) years old: pysaml2 hands back
    no verified assertion, and nothing is read from it."""
    connection, idp = contoso
    request_id, xml = answer(connection, idp)
    stale = re.sub(r'IssueInstant="[^"]*"', 'IssueInstant="2020-01-01T00:00:00Z"', xml, count=1)
    assert refused(connection, request_id, stale).reason == "unsigned"


def test_an_answer_to_another_of_our_requests_is_refused(contoso):
    connection, idp = contoso
    request_id, xml = answer(connection, idp)
    other_request, _other_xml = answer(connection, idp)
    refusal = refused(connection, other_request, xml)
    assert refusal.reason == "unsolicited"
    # The audit trail gets pysaml2's own words, its exception named, at most 300 characters of them.
    assert str(refusal) == f"unsolicited: UnsolicitedResponse: Unsolicited response: {request_id}"
    long = xml.replace(f'InResponseTo="{request_id}"', f'InResponseTo="id-{"x" * 400}"', 1)
    assert str(refused(connection, request_id, long)) == \
        "unsolicited: " + f"UnsolicitedResponse: Unsolicited response: id-{'x' * 400}"[:300]


def epoch(instant: str) -> int:
    return calendar.timegm(str_to_time(instant))


def test_the_time_window_allows_a_minute_of_clock_skew_each_way(contoso):
    connection, idp = contoso
    request_id, xml = answer(connection, idp)
    not_before = epoch(re.search(r'NotBefore="([^"]+)"', xml).group(1))
    end = min(epoch(value) for value in re.findall(r'NotOnOrAfter="([^"]+)"', xml))
    assert verify(connection, request_id, xml, now=not_before - 60).not_on_or_after == end
    early = refused(connection, request_id, xml, now=not_before - 61)
    assert str(early) == "expired: not valid yet"
    assert verify(connection, request_id, xml, now=end + 59).not_on_or_after == end
    late = refused(connection, request_id, xml, now=end + 60)
    assert str(late) == "expired: no longer valid"


def instant(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def assertion_with(*, not_before: float | None = None, conditions_end: float | None = None,
                   confirmation_ends: tuple = (), conditions: bool = True) -> saml_types.Assertion:
    """An assertion with only the times ``_check_time_window`` reads (pysaml2's own types)."""
    confirmations = [
        saml_types.SubjectConfirmation(
            method=saml_types.SCM_BEARER,
            subject_confirmation_data=None if end is None
            else saml_types.SubjectConfirmationData(not_on_or_after=instant(end)))
        for end in confirmation_ends]
    return saml_types.Assertion(
        conditions=saml_types.Conditions(
            not_before=instant(not_before) if not_before is not None else None,
            not_on_or_after=instant(conditions_end) if conditions_end is not None else None,
        ) if conditions else None,
        subject=saml_types.Subject(subject_confirmation=confirmations) if confirmation_ends else None)


T = 1_900_000_000  # a whole second, so the instants round-trip exactly


@pytest.mark.parametrize(("assertion", "ends"), [
    (assertion_with(conditions_end=T + 300, confirmation_ends=(T + 100,)), T + 100),
    (assertion_with(conditions_end=T + 100, confirmation_ends=(T + 300,)), T + 100),
    (assertion_with(conditions_end=T + 300, confirmation_ends=(None, T + 200, T + 250)), T + 200),
    (assertion_with(conditions=False, confirmation_ends=(T + 100,)), T + 100),
    (assertion_with(conditions_end=T + 100, confirmation_ends=(None,)), T + 100),
    (assertion_with(conditions_end=T + 100), T + 100),
], ids=["confirmation-first", "conditions-first", "several-confirmations", "no-conditions",
        "confirmation-without-data", "no-subject"])
def test_an_assertion_ends_at_the_earliest_end_it_names(assertion, ends):
    assert saml._check_time_window(assertion, T) == ends
    assert saml._check_time_window(assertion, ends + 59) == ends
    with pytest.raises(saml.SamlRejected) as refused_late:
        saml._check_time_window(assertion, ends + 60)
    assert str(refused_late.value) == "expired: no longer valid"


@pytest.mark.parametrize("assertion", [
    assertion_with(not_before=T - 10),
    assertion_with(conditions=False),
    assertion_with(conditions_end=None, confirmation_ends=(None,)),
], ids=["conditions-without-end", "nothing", "confirmation-without-data"])
def test_an_assertion_that_never_ends_is_refused(assertion):
    with pytest.raises(saml.SamlRejected) as caught:
        saml._check_time_window(assertion, T)
    assert str(caught.value) == "expired: the assertion has no end of validity"


def test_an_assertion_not_yet_valid_is_refused_beyond_the_skew():
    assertion = assertion_with(not_before=T + 100, conditions_end=T + 400)
    assert saml._check_time_window(assertion, T + 40) == T + 400
    with pytest.raises(saml.SamlRejected) as caught:
        saml._check_time_window(assertion, T + 39)
    assert str(caught.value) == "expired: not valid yet"


# --- what a refusal by pysaml2 is recorded as (the audit trail's "check") ---------------------------

class _Named(Exception):
    pass


def exception_named(name: str, message: str = "") -> Exception:
    return type(name, (_Named,), {})(message)


def saml_document(audience: str) -> bytes:
    return (f'<samlp:Response xmlns:samlp="{SAMLP}" xmlns:saml="{SAML}"><saml:Assertion><saml:Conditions>'
            f"<saml:AudienceRestriction><saml:Audience>{audience}</saml:Audience></saml:AudienceRestriction>"
            "</saml:Conditions></saml:Assertion></samlp:Response>").encode()


OURS = "http://testserver/sso/mitel-100003/saml/"


@pytest.mark.parametrize(("exc", "audience", "check"), [
    (MissingKey("http://idp.example/"), OURS, "issuer"),
    (VerificationError("Condition not OK"), OURS, "expired"),
    (VerificationError("Condition not OK"), "https://another.example/", "audience"),
    (Exception("AudienceRestrictions conditions not satisfied! (Local entity_id=x)"), "https://x.example/",
     "audience"),
    (SignatureError("xmlsec1 said no"), OURS, "signature"),
    (exception_named("Incorrect", "Failed to verify Signature"), OURS, "signature"),
    (exception_named("Incorrect", "the response is not signed"), OURS, "signature"),
    (exception_named("Refused", "Not for this Audience"), OURS, "audience"),
    (UnsolicitedResponse("id-123"), OURS, "unsolicited"),
    (Exception("Combination of session id and requestURI I don't recall"), OURS, "unsolicited"),
    (exception_named("ClockTimeout"), OURS, "expired"),
    (ToEarly("Can't use response yet"), OURS, "expired"),
    (exception_named("Refused", "Can't use response, too old"), OURS, "expired"),
    (exception_named("Refused", "past not_on_or_after"), OURS, "expired"),
    (exception_named("Refused", "Session Expired"), OURS, "expired"),
    (VerificationError("No valid Recipient"), OURS, "recipient"),
    (exception_named("Refused", "Wrong Destination"), OURS, "destination"),
    (StatusAuthnFailed("the user cancelled"), OURS, "invalid"),
])
def test_each_refusal_by_pysaml2_is_recorded_as_the_check_it_failed(exc, audience, check):
    from types import SimpleNamespace

    connection = SimpleNamespace(provider_id="mitel-100003")
    assert saml._reason(exc, saml_document(audience), connection, time.time()) == check


def test_xmlsec1_missing_is_said_plainly(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RuntimeError) as missing:
        saml.xmlsec_binary()
    assert str(missing.value) == "SAML needs the xmlsec1 program: apt-get install xmlsec1"


def test_an_assertion_for_another_services_reply_url_is_refused_though_the_response_names_ours(
        saml_sso, contoso):
    """The identity provider signed the assertion for Initech's Assertion Consumer Service (its
    Recipient); the unsigned response around it is rewritten to name ours as Destination."""
    connection, idp = contoso
    request_id, location = saml.authn_request(connection, relay_state="state")
    acs, _fields = answer_from(idp, location)
    elsewhere = "http://testserver/sso/mitel-100004/saml/acs/"
    idp.know_service_provider(saml_sso.initech.sp_metadata[0])
    signed = base64.b64decode(idp.respond(request_id, elsewhere, acs.removesuffix("acs/"))).decode()
    assert f'Recipient="{elsewhere}"' in signed
    xml = signed.replace(f'Destination="{elsewhere}"', f'Destination="{acs}"', 1)
    assert refused(connection, request_id, xml).reason == "recipient"


# --- assertions the identity provider itself signs with unusual content ------------------------------

def signed_after(idp, request_id: str, acs: str, edit) -> str:
    """The provider's answer to ``request_id``, its assertion changed by ``edit`` (given pysaml2's
    ``Assertion``) and only then signed with the provider's key: an answer its signature covers."""
    from saml2 import class_name, samlp
    from saml2.server import Server
    from saml2.sigver import pre_signature_part

    idp.sign_assertion = False
    try:
        unsigned = base64.b64decode(idp.respond(request_id, acs, acs.removesuffix("acs/"))).decode()
    finally:
        idp.sign_assertion = True
    response = samlp.response_from_string(unsigned)
    [assertion] = response.assertion
    edit(assertion)
    server = Server(config=idp.config())
    assertion.signature = pre_signature_part(assertion.id, server.sec.my_cert, 1,
                                             sign_alg=server.signing_algorithm,
                                             digest_alg=server.digest_algorithm)
    return server.sec.sign_statement(str(response), class_name(assertion), node_id=assertion.id)


def sign_edited(contoso_pair, edit) -> tuple[str, str]:
    connection, idp = contoso_pair
    request_id, location = saml.authn_request(connection, relay_state="state")
    acs, _fields = answer_from(idp, location)
    return request_id, signed_after(idp, request_id, acs, edit)


def test_an_assertion_signed_as_the_provider_signs_it_is_accepted(contoso):
    connection, _idp = contoso
    request_id, xml = sign_edited(contoso, lambda assertion: None)
    assert verify(connection, request_id, xml).name_id == "AAAAAAAAAAAAAAAAAAAAAEdHz4-erin"


def test_an_assertion_restricted_to_no_audience_is_refused(contoso):
    """SAML lets an assertion name no audience (pysaml2 then accepts it); ours must name us."""
    connection, _idp = contoso

    def no_audience(assertion):
        assertion.conditions.audience_restriction = []

    request_id, xml = sign_edited(contoso, no_audience)
    assert "AudienceRestriction" not in xml
    refusal = refused(connection, request_id, xml)
    assert refusal.reason == "audience" and str(refusal) == "audience: []"


def test_an_assertion_without_conditions_is_refused_for_naming_no_audience(contoso):
    connection, _idp = contoso

    def no_conditions(assertion):
        assertion.conditions = None

    request_id, xml = sign_edited(contoso, no_conditions)
    assert "Conditions" not in xml
    assert str(refused(connection, request_id, xml)) == "audience: []"


def test_an_assertion_about_no_name_id_gives_an_empty_name_id(contoso):
    connection, _idp = contoso

    def no_name_id(assertion):
        assertion.subject.name_id = None

    request_id, xml = sign_edited(contoso, no_name_id)
    verified = verify(connection, request_id, xml)
    assert verified.name_id == "" and verified.attributes[ENTRA_NAME] == ["Erin@Contoso.example"]


def test_an_empty_attribute_value_is_an_empty_string(contoso):
    connection, _idp = contoso

    def empty_value(assertion):
        [statement] = assertion.attribute_statement
        statement.attribute[0].attribute_value[0].text = ""

    request_id, xml = sign_edited(contoso, empty_value)
    values = verify(connection, request_id, xml).attributes
    assert [""] in values.values()


def test_a_key_the_answer_carries_is_never_trusted_only_the_connections(contoso, tmp_path):
    """An assertion naming an issuer the connection's metadata does not, signed by a key whose
    certificate the signature itself carries: pysaml2 looks for that issuer's key in the metadata
    alone, finds none and refuses (``only_use_keys_in_metadata``), so the carried key never
    verifies anything and the audit trail says no key was found, not merely that the issuer differs."""
    connection, idp = contoso
    own_pair = idp.key_file, idp.cert_file
    _key, someone_elses = make_key_pair(tmp_path, "someone-elses-signing-key")
    idp.sign_with((_key, someone_elses))

    def other_issuer(assertion):
        assertion.issuer.text = "https://rogue.example/idp"

    try:
        request_id, xml = sign_edited(contoso, other_issuer)
    finally:
        idp.sign_with(own_pair)
    assert certificate_b64(someone_elses) in xml
    assert str(refused(connection, request_id, xml)) == "issuer: MissingKey: https://rogue.example/idp"


class _Clock:
    """``time`` as seen by pysaml2's checks, ``behind`` seconds behind the identity provider's."""

    def __init__(self, behind: int) -> None:
        self.behind = behind

    def __getattr__(self, name):
        return getattr(time, name)

    def time(self) -> float:
        return time.time() - self.behind

    def gmtime(self, seconds=None):
        return time.gmtime(self.time() if seconds is None else seconds)


@pytest.mark.parametrize(("behind", "accepted"), [(45, True), (120, False)])
def test_our_clock_may_be_a_minute_behind_the_identity_providers(contoso, monkeypatch, behind, accepted):
    """The assertion is valid from the instant the provider issued it; a server whose clock is up to
    a minute behind still accepts it, pysaml2's check and ours alike."""
    import saml2.time_util

    connection, idp = contoso
    request_id, xml = answer(connection, idp)
    monkeypatch.setattr(saml2.time_util, "time", _Clock(behind))
    if accepted:
        assert verify(connection, request_id, xml, now=time.time() - behind).name_id
    else:
        assert refused(connection, request_id, xml, now=time.time() - behind).reason == "expired"


@pytest.mark.parametrize(("address", "accepted"), [("127.0.0.1", True), ("203.0.113.9", False)])
def test_an_assertion_bound_to_a_client_address_is_accepted_only_from_there(contoso, address, accepted):
    """A provider may bind the bearer confirmation to the browser's address (SubjectConfirmationData
    Address): the answer is then good only when posted from there."""
    connection, _idp = contoso

    def bind(assertion):
        [confirmation] = assertion.subject.subject_confirmation
        confirmation.subject_confirmation_data.address = address

    request_id, xml = sign_edited(contoso, bind)
    assert f'Address="{address}"' in xml
    if accepted:
        assert verify(connection, request_id, xml).name_id
    else:
        assert "No valid attesting address" in str(refused(connection, request_id, xml))
