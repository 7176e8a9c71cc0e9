"""Single Sign On over SAML 2.0, end to end against real SAML identity providers (pysaml2) on loopback."""

import base64
import re
import zlib
from urllib.parse import parse_qs, urlsplit

import pytest

from accounts.models import AuditEvent, User
from sso.models import LinkedIdentity

from .oidc import enter_username, press_single_sign_on, signed_in_user_id, stay_signed_in
from .saml_idp import ENTRA_NAME, ENTRA_OBJECT_ID, answer_from, come_back, post_cross_site

pytestmark = pytest.mark.django_db


def test_erin_signs_in_through_an_entra_shaped_saml_connection(client, saml_sso):
    users_before = User.objects.count()
    enter_username(client, "erin@contoso.example")
    to_provider = press_single_sign_on(client)
    assert to_provider.startswith(f"{saml_sso.contoso.base_url}/sso?SAMLRequest=")
    query = parse_qs(urlsplit(to_provider).query)
    assert query["RelayState"] and query["login_hint"] == ["erin@contoso.example"]
    request = zlib.decompress(base64.b64decode(query["SAMLRequest"][0]), -15).decode()
    assert 'AssertionConsumerServiceURL="http://testserver/sso/mitel-100003/saml/acs/"' in request
    assert ">http://testserver/sso/mitel-100003/saml/</" in request  # our SP entity ID as Issuer
    assert "NameIDPolicy" not in request  # the provider sends the NameID it is configured for

    saml_sso.contoso.sign_in_as("erin")
    key_before = client.session.session_key
    posted, back = come_back(client, saml_sso.contoso, to_provider)
    assert posted.status_code == 303 and posted["Location"].startswith("/sso/saml/continue/")
    assert back.status_code == 302 and back["Location"] == "/signin/stay/", back.content.decode()[:3000]
    assert client.session.session_key != key_before
    assert signed_in_user_id(client) is None

    done = stay_signed_in(client)
    assert done.status_code == 302 and done["Location"] == "/me/"
    erin = saml_sso.users["erin@contoso.example"]
    assert signed_in_user_id(client) == erin.pk
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.SIGN_IN)
    assert (event.user, event.method, event.account.account_number) == (erin, "azure_ad", "100003")
    assert LinkedIdentity.objects.filter(user=erin, issuer=saml_sso.contoso.entity_id,
                                         subject="6d1f0c5e-erin").exists()
    assert User.objects.count() == users_before


def test_frank_signs_in_through_an_okta_shaped_saml_connection(client, saml_sso):
    enter_username(client, "frank@initech.example")
    page = client.get("/signin/authenticate/")
    assert b"Single Sign On" in page.content and b"Enter your password" not in page.content
    to_provider = press_single_sign_on(client)
    assert to_provider.startswith(f"{saml_sso.initech.base_url}/sso?SAMLRequest=")
    saml_sso.initech.sign_in_as("frank")
    posted, back = come_back(client, saml_sso.initech, to_provider)
    assert back.status_code == 302 and back["Location"] == "/signin/stay/"
    stay_signed_in(client)
    frank = saml_sso.users["frank@initech.example"]
    assert signed_in_user_id(client) == frank.pk
    assert LinkedIdentity.objects.filter(user=frank, issuer=saml_sso.initech.entity_id,
                                         subject="frank@initech.example").exists()


def test_the_answer_finds_its_sign_in_without_the_session_cookie_but_only_that_browser_finishes_it(
        client, saml_sso):
    """The identity provider's post comes without the SameSite=Lax cookie; the same-site bounce
    brings it back. Another browser (an attacker's link, a login CSRF) cannot use the bounce."""
    from django.test import Client

    enter_username(client, "erin@contoso.example")
    to_provider = press_single_sign_on(client)
    saml_sso.contoso.sign_in_as("erin")
    acs, fields = answer_from(saml_sso.contoso, to_provider)
    posted = post_cross_site(client, acs, fields)
    assert posted.status_code == 303

    elsewhere = Client()
    enter_username(elsewhere, "erin@contoso.example")
    stolen = elsewhere.get(posted["Location"])
    assert stolen.status_code == 400 and b"Start signing in again" in stolen.content
    assert signed_in_user_id(elsewhere) is None
    # ... and the link is spent: not even the right browser can use it now.
    late = client.get(posted["Location"])
    assert late.status_code == 400 and signed_in_user_id(client) is None


def test_a_username_other_than_the_mitel_username_is_refused(client, saml_sso):
    saml_sso.contoso.add_user("eve", name_id="eve-persistent", attributes={
        ENTRA_NAME: ["eve@contoso.example"], ENTRA_OBJECT_ID: ["eve-object-id"]})
    enter_username(client, "erin@contoso.example")
    to_provider = press_single_sign_on(client)
    saml_sso.contoso.sign_in_as("eve")
    _posted, back = come_back(client, saml_sso.contoso, to_provider)
    assert back.status_code == 403 and b"does not match your Mitel username" in back.content
    assert signed_in_user_id(client) is None
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.SSO_MISMATCH)
    assert event.detail["enterprise_username"] == "eve@contoso.example"


# --- refused answers: each ends with nobody signed in ------------------------------------------------

def start_erin(client, saml_sso) -> str:
    enter_username(client, "erin@contoso.example")
    saml_sso.contoso.sign_in_as("erin")
    return press_single_sign_on(client)


def start_frank(client, saml_sso) -> str:
    enter_username(client, "frank@initech.example")
    saml_sso.initech.sign_in_as("frank")
    return press_single_sign_on(client)


def assert_refused(client, posted, back, *, check: str) -> None:
    assert posted.status_code in (400, 403), (posted.status_code, posted.content.decode()[:2000])
    assert back is posted  # no way on to our own site
    assert signed_in_user_id(client) is None
    assert stay_signed_in(client).status_code != 302 or signed_in_user_id(client) is None
    refusal = AuditEvent.objects.filter(kind=AuditEvent.Kind.SSO_ERROR).latest("pk")
    assert refusal.detail["check"] == check, refusal.detail


def xml_of(fields: dict) -> str:
    return base64.b64decode(fields["SAMLResponse"]).decode()


def with_xml(fields: dict, document: str) -> dict:
    return {**fields, "SAMLResponse": base64.b64encode(document.encode()).decode()}


def test_an_unsigned_assertion_is_refused(client, saml_sso):
    location = start_frank(client, saml_sso)
    saml_sso.initech.sign_assertion = False
    saml_sso.initech.sign_response = False
    posted, back = come_back(client, saml_sso.initech, location)
    assert_refused(client, posted, back, check="signature")


def test_a_signed_response_around_an_unsigned_assertion_is_refused(client, saml_sso):
    location = start_frank(client, saml_sso)
    saml_sso.initech.sign_assertion = False
    saml_sso.initech.sign_response = True
    posted, back = come_back(client, saml_sso.initech, location)
    assert_refused(client, posted, back, check="signature")


def wrap(document: str, *, username: str, inside: bool = False) -> str:
    """Signature wrapping: a copy of the signed assertion, unsigned and for ``username``, put before
    the signed one (or with the signed one moved into the copy's Advice); the signed one untouched."""
    match = re.search(r"<(\w+:)?Assertion\b.*?</\1Assertion>", document, re.S)
    signed, prefix = match.group(0), match.group(1) or ""
    forged = re.sub(r"<(\w+:)?Signature\b.*?</\1Signature>", "", signed, count=1, flags=re.S)
    forged = re.sub(r'\bID="', 'ID="_forged', forged, count=1)
    forged, changed = re.subn(r"(<(\w+:)?AttributeValue\b[^>]*>)[^<]*eve@contoso\.example",
                              rf"\g<1>{username}", forged)
    assert changed == 1, forged
    if inside:
        closing = f"</{prefix}Assertion>"
        forged = forged[: -len(closing)] + f"<{prefix}Advice>{signed}</{prefix}Advice>" + closing
        return document.replace(signed, forged)
    return document.replace(signed, forged + signed)


@pytest.mark.parametrize("inside", [False, True], ids=["beside", "in-advice"])
def test_a_signed_assertion_moved_beside_an_unsigned_one_is_refused(client, saml_sso, inside):
    saml_sso.contoso.add_user("eve", name_id="eve-persistent", attributes={
        ENTRA_NAME: ["eve@contoso.example"], ENTRA_OBJECT_ID: ["eve-object-id"]})
    enter_username(client, "erin@contoso.example")
    location = press_single_sign_on(client)
    saml_sso.contoso.sign_in_as("eve")  # the attacker's own, validly signed assertion

    def forge(fields):
        return with_xml(fields, wrap(xml_of(fields), username="erin@contoso.example", inside=inside))

    posted, back = come_back(client, saml_sso.contoso, location, edit=forge)
    assert_refused(client, posted, back, check="assertion_count")


def test_an_assertion_for_another_audience_is_refused(client, saml_sso):
    location = start_frank(client, saml_sso)
    other = "https://another-service.example/saml"  # another application at the same provider
    saml_sso.initech.know_service_provider(saml_sso.initech.sp_metadata[0], entity_id=other)
    saml_sso.initech.audience = other
    posted, back = come_back(client, saml_sso.initech, location)
    assert_refused(client, posted, back, check="audience")


def test_an_expired_assertion_is_refused(client, saml_sso):
    location = start_frank(client, saml_sso)
    saml_sso.initech.lifetime_minutes = -10
    posted, back = come_back(client, saml_sso.initech, location)
    assert_refused(client, posted, back, check="expired")


def test_a_replayed_response_is_refused(client, saml_sso):
    location = start_frank(client, saml_sso)
    acs, fields = answer_from(saml_sso.initech, location)
    first = post_cross_site(client, acs, fields)
    assert first.status_code == 303
    client.get(first["Location"])
    stay_signed_in(client)
    frank = saml_sso.users["frank@initech.example"]
    assert signed_in_user_id(client) == frank.pk

    # Captured on the way (a shared computer's history, a proxy log) and posted again, from
    # another browser that starts its own sign-in as frank.
    from django.test import Client

    attacker = Client()
    start_frank(attacker, saml_sso)
    again = post_cross_site(attacker, acs, fields)
    assert_refused(attacker, again, again, check="replayed_or_expired")


def test_a_response_for_another_accounts_connection_is_refused(client, saml_sso):
    """Initech's identity provider, validly signing, answers Contoso's request (its ID and
    RelayState known), posted to Contoso's service: Contoso trusts only its own provider's keys."""
    from sso.models import SamlRequest

    location = start_erin(client, saml_sso)
    request = SamlRequest.objects.latest("pk")
    saml_sso.initech.users["erin"] = {"name_id": "erin@contoso.example", "attributes": {}}
    saml_sso.initech.sign_in_as("erin")
    saml_sso.initech.sp_metadata = saml_sso.contoso.sp_metadata
    acs, _fields = answer_from(saml_sso.contoso, location)
    forged = {"SAMLResponse": saml_sso.initech.respond(request.request_id, acs, sp_entity_id_of(acs)),
              "RelayState": request.relay_state}
    posted = post_cross_site(client, acs, forged)
    assert_refused(client, posted, posted, check="issuer")


def test_a_provider_posing_as_the_accounts_provider_is_refused(client, saml_sso):
    """A provider that names Contoso's identity provider as issuer but signs with its own key."""
    from sso.models import SamlRequest

    location = start_erin(client, saml_sso)
    request = SamlRequest.objects.latest("pk")
    rogue = saml_sso.rogue
    rogue.claimed_entity_id = saml_sso.contoso.entity_id
    rogue.users["erin"] = saml_sso.contoso.users["erin"]
    rogue.sign_in_as("erin")
    rogue.sp_metadata = saml_sso.contoso.sp_metadata
    acs, _fields = answer_from(saml_sso.contoso, location)
    forged = {"SAMLResponse": rogue.respond(request.request_id, acs, sp_entity_id_of(acs)),
              "RelayState": request.relay_state}
    posted = post_cross_site(client, acs, forged)
    assert_refused(client, posted, posted, check="signature")


def sp_entity_id_of(acs: str) -> str:
    return acs.removesuffix("acs/")


def test_an_answer_posted_to_another_accounts_service_is_refused(client, saml_sso):
    # Contoso's valid answer to Contoso's request, posted to Initech's Assertion Consumer Service.
    location = start_erin(client, saml_sso)
    _acs, fields = answer_from(saml_sso.contoso, location)
    posted = post_cross_site(client, "http://testserver/sso/mitel-100004/saml/acs/", fields)
    assert_refused(client, posted, posted, check="unsolicited")


def test_an_encrypted_assertion_is_refused(client, saml_sso, tmp_path):
    """We publish no encryption key, so an encrypted assertion is one we cannot read: refused."""
    from .saml_idp import make_key_pair

    location = start_frank(client, saml_sso)
    _key, certificate = make_key_pair(tmp_path, "someone-elses-encryption-key")
    saml_sso.initech.encrypt_for = certificate
    posted, back = come_back(client, saml_sso.initech, location)
    assert "EncryptedAssertion" in xml_of(answer_from(saml_sso.initech, location)[1])
    assert_refused(client, posted, back, check="encrypted")


def test_an_answer_addressed_to_another_service_is_refused(client, saml_sso):
    """Signed for us, but with Destination and Recipient another service's (Initech's ACS)."""
    from sso.models import SamlRequest

    location = start_erin(client, saml_sso)
    request = SamlRequest.objects.latest("pk")
    acs, _fields = answer_from(saml_sso.contoso, location)
    elsewhere = "http://testserver/sso/mitel-100004/saml/acs/"
    saml_sso.contoso.know_service_provider(saml_sso.initech.sp_metadata[0])
    forged = {"SAMLResponse": saml_sso.contoso.respond(request.request_id, elsewhere, sp_entity_id_of(acs)),
              "RelayState": request.relay_state}
    posted = post_cross_site(client, acs, forged)
    assert_refused(client, posted, posted, check="destination")


def test_an_unsolicited_response_is_refused(client, saml_sso):
    from sso.models import SsoConnection
    from sso.saml import acs_url, sp_entity_id

    connection = SsoConnection.objects.get(account__account_number="100004")
    enter_username(client, "frank@initech.example")
    saml_sso.initech.sign_in_as("frank")
    fields = saml_sso.initech.unsolicited(acs_url(connection), sp_entity_id(connection))
    posted = post_cross_site(client, acs_url(connection), fields)
    assert_refused(client, posted, posted, check="unsolicited")


@pytest.mark.parametrize("doctype", [
    '<!DOCTYPE r [<!ENTITY user "frank@initech.example">]>',
    '<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
    '<!DOCTYPE r SYSTEM "http://127.0.0.1:9/evil.dtd">',
], ids=["entity", "expansion", "external-dtd"])
def test_xml_with_a_dtd_or_entities_is_refused(client, saml_sso, doctype):
    location = start_frank(client, saml_sso)

    def add_doctype(fields):
        document = xml_of(fields)
        if document.startswith("<?xml"):
            declaration, rest = document.split("?>", 1)
            return with_xml(fields, f"{declaration}?>{doctype}{rest}")
        return with_xml(fields, doctype + document)

    posted, back = come_back(client, saml_sso.initech, location, edit=add_doctype)
    assert_refused(client, posted, back, check="dtd")


def test_the_time_window_is_checked_against_the_clock_we_are_given(client, saml_sso):
    """Beyond pysaml2's own check against the system clock: an hour later the same answer is stale."""
    import time

    from sso import saml
    from sso.models import SamlRequest, SsoConnection

    location = start_frank(client, saml_sso)
    request = SamlRequest.objects.latest("pk")
    _acs, fields = answer_from(saml_sso.initech, location)
    document, in_response_to = saml.decode_response(fields["SAMLResponse"])
    connection = SsoConnection.objects.get(account__account_number="100004")
    assert in_response_to == request.request_id
    answer = saml.verify_response(connection, document, request_id=request.request_id,
                                  remote_addr="127.0.0.1")
    assert answer.name_id == "frank@initech.example"
    with pytest.raises(saml.SamlRejected) as later:
        saml.verify_response(connection, document, request_id=request.request_id, remote_addr="127.0.0.1",
                             now=time.time() + 3600)
    assert later.value.reason == "expired"


# --- the rules SAML shares with OpenID Connect (sso.services.login.conclude) -----------------------

def test_a_locked_out_user_is_refused_over_saml_too(client, saml_sso):
    from tests.factories import LockoutFactory

    LockoutFactory(key="erin@contoso.example")
    _posted, back = come_back(client, saml_sso.contoso, start_erin(client, saml_sso))
    assert back.status_code == 403 and "Your sign-in is locked" in back.content.decode()
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.SIGN_IN_FAILED).latest("pk").detail["reason"] \
        == "locked_out"
    assert signed_in_user_id(client) is None


def test_a_domain_unverified_while_at_the_provider_is_refused_over_saml_too(client, saml_sso):
    from accounts.models import Domain

    location = start_erin(client, saml_sso)
    Domain.objects.filter(account__account_number="100003", name="contoso.example").delete()
    _posted, back = come_back(client, saml_sso.contoso, location)
    assert back.status_code == 403 and signed_in_user_id(client) is None
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.SSO_MISMATCH).latest("pk").detail["reason"] \
        == "domain_not_verified"


def test_a_changed_username_at_the_provider_does_not_open_another_user(client, saml_sso):
    """The identity is keyed on the provider's entity ID and Entra's object ID (CVE-2025-65431)."""
    from django.test import Client

    from sso.models import LinkedIdentity

    _posted, back = come_back(client, saml_sso.contoso, start_erin(client, saml_sso))
    assert back["Location"] == "/signin/stay/"
    assert LinkedIdentity.objects.filter(subject="6d1f0c5e-erin").count() == 1
    # Erin's object ID now asserts another Contoso username, of a user who exists.
    other = contoso_member("olga@contoso.example")
    saml_sso.contoso.users["erin"]["attributes"][ENTRA_NAME] = ["olga@contoso.example"]
    browser = Client()
    enter_username(browser, "olga@contoso.example")
    saml_sso.contoso.sign_in_as("erin")
    _posted, back = come_back(browser, saml_sso.contoso, press_single_sign_on(browser))
    assert back.status_code == 403 and signed_in_user_id(browser) is None
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.SSO_MISMATCH).latest("pk").detail["reason"] \
        == "identity_conflict"
    assert not LinkedIdentity.objects.filter(user=other).exists()


def contoso_member(username: str):
    from accounts.models import MitelAccount
    from tests.factories import MembershipFactory, UserFactory

    user = UserFactory(username=username)
    MembershipFactory(user=user, account=MitelAccount.objects.get(account_number="100003"))
    return user
