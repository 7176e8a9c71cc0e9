"""SAML connections in the Connect Portal: metadata by URL or file, the names to register, rollover."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import AuditEvent, Membership
from sso.models import SsoConnection
from tests.portal.conftest import text_of
from tests.portal.forms import admin_form_data
from tests.signin import open_portal_as

from .oidc import enter_username, press_single_sign_on, signed_in_user_id, stay_signed_in
from .saml_idp import come_back, fetch_metadata

pytestmark = pytest.mark.django_db


@pytest.fixture
def contoso_contact(demo, client):
    """erin, made a Decision Maker of Contoso, in the Connect Portal."""
    erin = demo["erin@contoso.example"]
    Membership.objects.filter(user=erin, account__account_number="100003").update(is_decision_maker=True)
    open_portal_as(client, erin)
    return erin


def contoso_connection() -> SsoConnection:
    return SsoConnection.objects.get(account__account_number="100003")


def change_url() -> str:
    return f"/admin/sso/ssoconnection/{contoso_connection().pk}/change/"


def with_file(page, upload) -> dict:
    return {**admin_form_data(page, protocol="saml"), "saml_metadata_file": upload}


def test_the_portal_shows_the_sp_entity_id_and_acs_url_and_reads_metadata_by_url(
        client, contoso_contact, saml_providers):
    idp = saml_providers.contoso
    page = client.get(change_url())
    text = text_of(page)
    assert "http://testserver/sso/mitel-100003/saml/" in text  # SP entity ID (Identifier)
    assert "http://testserver/sso/mitel-100003/saml/acs/" in text  # Reply URL
    assert "Mitel Connect enterprise application" in text
    saved = client.post(change_url(), admin_form_data(page, protocol="saml",
                                                      saml_metadata_url=idp.metadata_url))
    assert saved.status_code == 302, text_of(saved)
    connection = contoso_connection()
    assert connection.is_saml and connection.saml_idp_entity_id == idp.entity_id
    assert connection.saml_sso_url == f"{idp.base_url}/sso"
    assert connection.saml_certificates == [idp.certificate]
    assert connection.social_app is None  # no OpenID Connect answer can come in any more
    event = AuditEvent.objects.filter(kind=AuditEvent.Kind.SSO_CHANGED).latest("pk")
    assert event.detail["changes"]["protocol"] == ["oidc", "saml"]
    shown = text_of(client.get(change_url()))
    assert idp.entity_id in shown and "SHA-256" in shown


def test_metadata_can_be_uploaded_as_a_file(client, contoso_contact, saml_providers):
    idp = saml_providers.contoso
    page = client.get(change_url())
    upload = SimpleUploadedFile("federationmetadata.xml", fetch_metadata(idp).encode(), "text/xml")
    saved = client.post(change_url(), with_file(page, upload))
    assert saved.status_code == 302, text_of(saved)
    assert contoso_connection().saml_certificates == [idp.certificate]


def test_metadata_with_a_dtd_is_refused(client, contoso_contact, saml_providers):
    page = client.get(change_url())
    document = fetch_metadata(saml_providers.contoso)
    hostile = '<!DOCTYPE m [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + document
    upload = SimpleUploadedFile("metadata.xml", hostile.encode(), "text/xml")
    refused = client.post(change_url(), with_file(page, upload))
    assert refused.status_code == 200 and "not usable SAML metadata" in text_of(refused)
    assert not contoso_connection().is_saml


def test_a_metadata_url_on_the_private_network_is_refused_in_production(
        client, contoso_contact, saml_providers, settings):
    settings.SSO_ALLOW_LOOPBACK_ISSUERS = False
    page = client.get(change_url())
    refused = client.post(change_url(), admin_form_data(
        page, protocol="saml", saml_metadata_url=saml_providers.contoso.metadata_url))
    assert refused.status_code == 200
    assert "must be on the public internet" in text_of(refused) or "must start with https" in text_of(refused)
    assert not contoso_connection().is_saml


def sign_in_frank(client, idp):
    enter_username(client, "frank@initech.example")
    idp.sign_in_as("frank")
    return come_back(client, idp, press_single_sign_on(client))


def test_a_new_signing_certificate_is_accepted_beside_the_previous_one_while_the_provider_rotates(
        client, saml_sso):
    from django.test import Client

    from sso.services.connections import load_saml_metadata, save_connection

    idp = saml_sso.initech
    first = idp.certificate
    first_pair = idp.rotate_key()
    second = idp.certificate
    connection = SsoConnection.objects.get(account__account_number="100004")
    save_connection(load_saml_metadata(connection))
    assert SsoConnection.objects.get(pk=connection.pk).saml_certificates == [second, first]

    _posted, back = sign_in_frank(client, idp)  # signed with the new certificate
    assert back["Location"] == "/signin/stay/"
    stay_signed_in(client)
    assert signed_in_user_id(client) == saml_sso.users["frank@initech.example"].pk
    second_pair = idp.key_file, idp.cert_file
    idp.sign_with(first_pair)  # a server of the provider still on the outgoing certificate
    _posted, back = sign_in_frank(Client(), idp)
    assert back["Location"] == "/signin/stay/"

    # One more rotation: the oldest certificate is no longer accepted.
    idp.sign_with(second_pair)
    idp.rotate_key()
    third = idp.certificate
    save_connection(load_saml_metadata(connection))
    assert SsoConnection.objects.get(pk=connection.pk).saml_certificates == [third, second]
    idp.sign_with(first_pair)
    browser = Client()
    posted, _back = sign_in_frank(browser, idp)
    assert posted.status_code == 400 and signed_in_user_id(browser) is None
    refusal = AuditEvent.objects.filter(kind=AuditEvent.Kind.SSO_ERROR).latest("pk")
    assert refusal.detail["check"] == "signature"


def test_a_contact_tests_the_saml_connection_without_anyone_being_signed_in(client, saml_sso):
    """What the guided set-up's "Test connection" calls: sso.services.saml_login.start_saml_test."""
    from django.test import RequestFactory

    from sso.services.saml_login import start_saml_test

    contact = saml_sso.users["erin@contoso.example"]
    open_portal_as(client, contact)
    sign_ins = AuditEvent.objects.filter(kind=AuditEvent.Kind.SIGN_IN).count()
    request = RequestFactory().post("/admin/sso/ssoconnection/test/")
    request.user = contact
    to_provider = start_saml_test(request, contoso_connection(), acting_user=contact)
    assert to_provider.status_code == 302
    saml_sso.contoso.sign_in_as("erin")
    posted, result = come_back(client, saml_sso.contoso, to_provider["Location"])
    assert posted.status_code == 303 and result.status_code == 200
    text = text_of(result)
    assert "The SAML connection works" in text and "erin@contoso.example" in text
    assert "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name" in text
    assert signed_in_user_id(client) == contact.pk  # still the contact: the test signed nobody in
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.SIGN_IN).count() == sign_ins


def test_a_test_result_is_shown_only_to_the_contact_who_started_it(client, saml_sso):
    from django.test import Client, RequestFactory

    from sso.services.saml_login import start_saml_test

    from .saml_idp import answer_from, post_cross_site

    contact = saml_sso.users["erin@contoso.example"]
    request = RequestFactory().post("/")
    request.user = contact
    location = start_saml_test(request, contoso_connection(), acting_user=contact)["Location"]
    saml_sso.contoso.sign_in_as("erin")
    acs, fields = answer_from(saml_sso.contoso, location)
    posted = post_cross_site(client, acs, fields)
    someone_else = open_portal_as(Client(), saml_sso.users["grace@acme.example"])
    shown = someone_else.get(posted["Location"])
    assert shown.status_code == 302 and "erin@contoso.example" not in text_of(shown)


def test_our_sp_metadata_names_the_entity_id_and_acs_url_and_only_for_saml_connections(client, saml_sso):
    metadata = client.get("/sso/mitel-100004/saml/")
    assert metadata.status_code == 200 and metadata["Content-Type"] == "application/samlmetadata+xml"
    text = metadata.content.decode()
    assert 'entityID="http://testserver/sso/mitel-100004/saml/"' in text
    assert 'Location="http://testserver/sso/mitel-100004/saml/acs/"' in text
    assert client.get("/sso/mitel-100001/saml/").status_code == 404  # Acme: passwords
    SsoConnection.objects.filter(account__account_number="100004").update(protocol="oidc")
    assert client.get("/sso/mitel-100004/saml/").status_code == 404
    assert client.post("/sso/mitel-100004/saml/acs/", {"SAMLResponse": "x"}).status_code == 404


def test_manage_py_check_warns_where_xmlsec1_is_missing(monkeypatch, tmp_path):
    from django.core.checks import run_checks

    assert not [m for m in run_checks() if m.id == "sso.W001"]
    monkeypatch.setenv("PATH", str(tmp_path))  # a machine without xmlsec1
    [warning] = [m for m in run_checks() if m.id == "sso.W001"]
    assert "apt-get install xmlsec1" in warning.hint


def test_a_saml_connection_can_be_tested_while_the_account_still_takes_passwords(client, saml_sso):
    """During the guided set-up the connection names its provider and the account is not on SSO yet."""
    from django.test import RequestFactory

    from accounts.models import MitelAccount
    from sso.services.saml_login import start_saml_test

    SsoConnection.objects.filter(account__account_number="100003").update(identity_provider="azure_ad")
    MitelAccount.objects.filter(account_number="100003").update(authentication="mitel")
    contact = saml_sso.users["erin@contoso.example"]
    open_portal_as(client, contact)
    request = RequestFactory().post("/")
    request.user = contact
    saml_sso.contoso.sign_in_as("erin")
    location = start_saml_test(request, contoso_connection(), acting_user=contact)["Location"]
    _posted, result = come_back(client, saml_sso.contoso, location)
    assert result.status_code == 200 and "erin@contoso.example" in text_of(result)
