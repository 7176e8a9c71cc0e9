"""The guided Single Sign On set-up with SAML 2.0: a contact uploads the identity provider's metadata,
tests the connection with a real SAML answer (a pysaml2 identity provider on 127.0.0.1) through our
Assertion Consumer Service, and turns Single Sign On on, under the same rule as OpenID Connect."""
# ruff: noqa: F811  (the guided set-up's fixtures, imported, share their names with parameters)

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import AuditEvent, MitelAccount
from sso.models import SsoConnection
from sso.saml import sp_metadata
from tests.portal.conftest import text_of
from tests.portal.test_sso_setup import (  # noqa: F401  (fixtures)
    clinic,
    connection_of,
    oidc_providers,
    page_url,
    signed_in_with_password,
)
from tests.sso.saml_idp import ENTRA_NAME, ENTRA_OBJECT_ID, IdentityProvider, come_back

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def clinic_idp():
    """Alpha Clinic's Entra ID-shaped SAML identity provider."""
    idp = IdentityProvider("clinic", shape="entra")
    yield idp
    idp.stop()


@pytest.fixture
def saml_clinic(clinic, clinic_idp):  # noqa: F811
    clinic_idp.reset()
    clinic_idp.sp_metadata = []
    clinic_idp.add_user("ann", name_id="AAAA-ann-persistent", attributes={
        ENTRA_NAME: ["ann@clinic.example"], ENTRA_OBJECT_ID: ["0b1c-ann"]})
    clinic_idp.add_user("eve", name_id="AAAA-eve-persistent", attributes={
        ENTRA_NAME: ["eve@clinic.example"], ENTRA_OBJECT_ID: ["0b1c-eve"]})
    clinic.saml_idp = clinic_idp
    return clinic


def upload_metadata(client, clinic, document: str | bytes, **changes):
    data = {"provider": "azure_ad", "protocol": "saml",
            "saml_metadata_file": SimpleUploadedFile("metadata.xml", document if isinstance(document, bytes)
                                                     else document.encode(), content_type="text/xml"),
            "saml_username_attribute": "", **changes}
    return client.post(page_url(clinic.account), data)


def trust_us(clinic) -> None:
    """The contact registers our SP entity ID and ACS URL at the identity provider (step 2)."""
    clinic.saml_idp.sp_metadata = [sp_metadata(connection_of(clinic))]


def run_saml_test(client, clinic, who: str):
    """"Test connection" on the guided page, sign in at the identity provider as ``who``, its answer
    posted cross-site to our ACS, and back: the set-up page as it then shows."""
    clinic.saml_idp.sign_in_as(who)
    response = client.post(page_url(clinic.account, "test/"))
    assert response.status_code == 302, text_of(response)
    assert response["Location"].startswith(f"{clinic.saml_idp.base_url}/sso?")
    posted, back = come_back(client, clinic.saml_idp, response["Location"])
    assert posted.status_code == 303, text_of(posted)
    assert back.status_code == 302 and back["Location"] == page_url(clinic.account), back
    return client.get(back["Location"])


def turn_on(client, clinic):
    return client.post(page_url(clinic.account, "turn-on/"), {"keep_password": "yes"})


def account_method(clinic) -> str:
    return MitelAccount.objects.get(pk=clinic.account.pk).authentication


def test_a_contact_sets_up_tests_and_turns_on_a_saml_connection_from_uploaded_metadata(client, saml_clinic):
    clinic = saml_clinic
    signed_in_with_password(client, clinic.ann)
    page = text_of(client.get(page_url(clinic.account), {"provider": "azure_ad", "protocol": "saml"}))
    # Step 2 names what to register at Entra ID instead of a redirect URI.
    assert "http://testserver/sso/mitel-515151/saml/" in page
    assert "http://testserver/sso/mitel-515151/saml/acs/" in page
    assert "Basic SAML Configuration" in page and "/callback/" not in page

    saved = upload_metadata(client, clinic, clinic.saml_idp.metadata())
    assert saved.status_code == 302, text_of(saved)
    connection = connection_of(clinic)
    assert connection.is_saml and connection.saml_idp_entity_id == clinic.saml_idp.entity_id
    assert connection.saml_certificates == [clinic.saml_idp.certificate]
    assert account_method(clinic) == "mitel"  # nothing changes for the users yet

    # Turn on is refused before a passing test.
    refused = turn_on(client, clinic)
    assert refused.status_code == 302 and account_method(clinic) == "mitel"
    assert "Pass “Test connection”" in text_of(client.get(page_url(clinic.account)))

    trust_us(clinic)
    shown = text_of(run_saml_test(client, clinic, "ann"))
    assert "Test passed" in shown and "ann@clinic.example" in shown and "It matches your own" in shown
    assert ENTRA_OBJECT_ID in shown  # what the identity provider asserted, as claims are for OIDC
    assert "_auth_user_id" in client.session and int(client.session["_auth_user_id"]) == clinic.ann.pk
    assert connection_of(clinic).test_passed
    tested = AuditEvent.objects.filter(kind=AuditEvent.Kind.SSO_TESTED).latest("pk")
    assert tested.detail["passed"] is True and tested.detail["enterprise_username"] == "ann@clinic.example"

    on = turn_on(client, clinic)
    assert on.status_code == 302 and account_method(clinic) == "azure_ad"
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.SSO_TURNED_ON, account=clinic.account).exists()


def test_turn_on_is_refused_after_the_metadata_changes_until_a_new_test_passes(client, saml_clinic):
    clinic = saml_clinic
    signed_in_with_password(client, clinic.ann)
    upload_metadata(client, clinic, clinic.saml_idp.metadata())
    trust_us(clinic)
    run_saml_test(client, clinic, "ann")
    assert connection_of(clinic).test_passed

    previous = clinic.saml_idp.rotate_key()  # the identity provider publishes a new certificate
    try:
        assert upload_metadata(client, clinic, clinic.saml_idp.metadata()).status_code == 302
        assert not connection_of(clinic).test_passed
        turn_on(client, clinic)
        assert account_method(clinic) == "mitel"
        assert run_saml_test(client, clinic, "ann").status_code == 200
        assert connection_of(clinic).test_passed
        turn_on(client, clinic)
        assert account_method(clinic) == "azure_ad"
    finally:
        clinic.saml_idp.sign_with(previous)


def test_a_saml_answer_for_someone_outside_the_account_fails_the_test(client, saml_clinic):
    clinic = saml_clinic
    signed_in_with_password(client, clinic.ann)
    upload_metadata(client, clinic, clinic.saml_idp.metadata())
    trust_us(clinic)
    shown = text_of(run_saml_test(client, clinic, "eve"))
    assert "Test failed" in shown and "eve@clinic.example is not the Mitel username" in shown
    assert not connection_of(clinic).test_passed
    turn_on(client, clinic)
    assert account_method(clinic) == "mitel"


def test_an_answer_that_fails_our_checks_is_shown_as_a_failed_test_on_the_set_up_page(client, saml_clinic):
    clinic = saml_clinic
    signed_in_with_password(client, clinic.ann)
    upload_metadata(client, clinic, clinic.saml_idp.metadata())
    trust_us(clinic)
    clinic.saml_idp.sign_assertion = False  # unsigned: never accepted
    shown = text_of(run_saml_test(client, clinic, "ann"))
    assert "Test failed" in shown and "SAML answer did not pass our checks (signature)" in shown
    assert not connection_of(clinic).test_passed


def test_the_test_result_counts_only_in_the_browser_and_for_the_contact_who_started_it(client, saml_clinic):
    from django.test import Client

    from tests.sso.saml_idp import answer_from, post_cross_site

    clinic = saml_clinic
    signed_in_with_password(client, clinic.ann)
    upload_metadata(client, clinic, clinic.saml_idp.metadata())
    trust_us(clinic)
    clinic.saml_idp.sign_in_as("ann")
    location = client.post(page_url(clinic.account, "test/"))["Location"]
    posted = post_cross_site(client, *answer_from(clinic.saml_idp, location))
    other = signed_in_with_password(Client(), clinic.pat)  # another contact of the same account
    shown = other.get(posted["Location"])
    assert shown.status_code == 302 and shown["Location"] == "/admin/"
    assert not connection_of(clinic).test_passed


@pytest.mark.parametrize("document", [b"<html>not metadata</html>", b"<?xml version='1.0'?><!DOCTYPE x "
                                      b"[<!ENTITY a 'b'>]><x>&a;</x>", b"not xml at all"])
def test_bad_metadata_is_a_form_error_and_saves_nothing(client, saml_clinic, document):
    clinic = saml_clinic
    signed_in_with_password(client, clinic.ann)
    response = upload_metadata(client, clinic, document)
    assert response.status_code == 200
    text = text_of(response)
    assert "This is not the SAML metadata of one identity provider" in text
    assert not SsoConnection.objects.filter(account=clinic.account).exists()


def test_neither_a_url_nor_a_file_is_a_form_error(client, saml_clinic):
    clinic = saml_clinic
    signed_in_with_password(client, clinic.ann)
    response = client.post(page_url(clinic.account), {"provider": "azure_ad", "protocol": "saml"})
    assert response.status_code == 200
    assert "Give the identity provider&#x27;s SAML metadata" in text_of(response) or \
        "Give the identity provider's SAML metadata" in text_of(response)
    assert not SsoConnection.objects.filter(account=clinic.account).exists()


def test_a_metadata_url_that_cannot_be_fetched_is_a_form_error(client, saml_clinic):
    clinic = saml_clinic
    signed_in_with_password(client, clinic.ann)
    response = client.post(page_url(clinic.account), {
        "provider": "azure_ad", "protocol": "saml",
        "saml_metadata_url": f"{clinic.saml_idp.base_url}/missing"})
    assert response.status_code == 200
    assert not SsoConnection.objects.filter(account=clinic.account).exists()
    assert "errorlist" in text_of(response)
