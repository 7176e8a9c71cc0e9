"""Another account for a signed-in person: ``prompt=select_account`` and an application's
``account`` hint show only the account picker, never the password again."""

from urllib.parse import parse_qs, urlsplit

import pytest

from accounts.models import Application, AuditEvent, MitelAccount, User
from tests.accounts.mfa_helpers import code_for, trents_device
from tests.factories import MembershipFactory
from tests.sso.oidc import ERIN_SUB, authorize

from .conftest import SECRET, RelyingParty

pytestmark = pytest.mark.django_db(transaction=True)


def query_of(url: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


@pytest.fixture
def second_app(provider) -> Application:
    return Application.objects.create(
        slug="second", name="Second", home_url="https://two.mitel.example/", client_secret=SECRET,
        redirect_uris="https://two.mitel.example/cb", skip_authorization=True)


@pytest.fixture
def bob_in_globex(browser, provider, confidential_app) -> dict:
    rp = RelyingParty(provider, confidential_app, SECRET)
    browser.open(rp.authorize_url())
    browser.sign_in("bob@multi.example", account="GLOBEX")
    return rp.id_token_claims(rp.exchange(browser.location))


def test_prompt_select_account_shows_the_picker_only_and_the_token_says_the_new_account(
        browser, provider, second_app, bob_in_globex):
    rp = RelyingParty(provider, second_app, SECRET)
    browser.open(rp.authorize_url(prompt="select_account"))
    page = browser.page.text
    assert "/signin/account/" in browser.page.url and 'name="password"' not in page
    browser.submit(account="100001", account_number="")
    claims = rp.id_token_claims(rp.exchange(browser.location))  # no password, no other page
    assert claims["preferred_username"] == "bob@multi.example"
    assert claims["mitel_account"]["number"] == "100001"
    # The same browser session, proven when it began: the same sid and auth_time.
    assert claims["sid"] == bob_in_globex["sid"]
    assert claims["auth_time"] == bob_in_globex["auth_time"]
    event = AuditEvent.objects.filter(kind=AuditEvent.Kind.SIGN_IN).latest("pk")
    assert event.account.account_number == "100001" and event.detail.get("carried_proof") is True
    assert event.application == second_app  # the application that asked for the other account


def test_an_application_asking_for_another_account_goes_there_without_a_page(
        browser, provider, second_app, bob_in_globex):
    rp = RelyingParty(provider, second_app, SECRET)
    browser.open(rp.authorize_url(account="100001"))
    claims = rp.id_token_claims(rp.exchange(browser.location))
    assert claims["mitel_account"]["number"] == "100001"


def test_an_account_that_takes_no_password_asks_its_own_identity_provider_after_a_password(
        browser, provider, confidential_app, second_app):
    """A password proves nothing to an account that signs in with Single Sign On only: the switch
    asks for that account's provider, which speaks for the username's verified domain."""
    erin = User.objects.get(username="erin@contoso.example")
    MembershipFactory(user=erin, account=MitelAccount.objects.get(account_number="100001"))
    MitelAccount.objects.filter(account_number="100003").update(allow_password_sign_in=False)
    first = RelyingParty(provider, confidential_app, SECRET)
    browser.open(first.authorize_url())
    browser.sign_in(erin.username, account="100001")
    first.exchange(browser.location)

    rp = RelyingParty(provider, second_app, SECRET)
    browser.open(rp.authorize_url(account="100003"))
    page = browser.page.text
    assert "/signin/authenticate/" in browser.page.url
    assert "Contoso Ltd signs in with Microsoft Entra ID" in page and 'value="sso"' in page
    assert 'name="password"' not in page


def test_a_switch_keeps_the_sessions_second_factor_and_its_stay_signed_in(
        browser, provider, confidential_app, second_app):
    trent = User.objects.get(username="trent@acme.example")
    MembershipFactory(user=trent, account=MitelAccount.objects.get(account_number="100002"))
    device = trents_device()
    first = RelyingParty(provider, confidential_app, SECRET)
    browser.open(first.authorize_url())
    browser.sign_in(trent.username, account="100001", code=lambda: code_for(device), stay="yes")
    first.exchange(browser.location)

    rp = RelyingParty(provider, second_app, SECRET)
    browser.open(rp.authorize_url(account="100002"))
    claims = rp.id_token_claims(rp.exchange(browser.location))  # no code asked again
    assert claims["mitel_account"]["number"] == "100002" and claims["amr"] == ["pwd", "otp"]
    [cookie] = [c for c in browser.session.cookies if c.name == "sessionid"]
    assert cookie.expires is not None  # still kept when the browser closes


def test_prompt_select_account_for_a_person_with_one_account_goes_straight_back(
        browser, provider, confidential_app, second_app):
    first = RelyingParty(provider, confidential_app, SECRET)
    browser.open(first.authorize_url())
    browser.sign_in("alice@acme.example")
    first.exchange(browser.location)
    rp = RelyingParty(provider, second_app, SECRET)
    browser.open(rp.authorize_url(prompt="select_account"))
    claims = rp.id_token_claims(rp.exchange(browser.location))  # nothing to choose: no page
    assert claims["mitel_account"]["number"] == "100001"


def test_prompt_select_account_shows_the_picker_even_when_an_account_is_named_too(
        browser, provider, second_app, bob_in_globex):
    rp = RelyingParty(provider, second_app, SECRET)
    browser.open(rp.authorize_url(prompt="select_account", account="100001"))
    assert "/signin/account/" in browser.page.url and "Globex Partners" in browser.page.text


def test_a_switch_asks_for_the_code_of_an_authenticator_added_since_the_session_began(
        browser, provider, second_app, bob_in_globex):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.create(user=User.objects.get(username="bob@multi.example"), confirmed=True)
    rp = RelyingParty(provider, second_app, SECRET)
    browser.open(rp.authorize_url(account="100001"))
    assert "/signin/code/" in browser.page.url and 'name="code"' in browser.page.text


@pytest.fixture
def erin_through_entra_id(browser, provider, sso, confidential_app) -> None:
    """Erin, in Contoso and Acme, signed in to Contoso with its identity provider."""
    MembershipFactory(user=sso.users["erin@contoso.example"],
                      account=MitelAccount.objects.get(account_number="100001"))
    rp = RelyingParty(provider, confidential_app, SECRET)
    browser.open(rp.authorize_url())
    browser.submit(username="erin@contoso.example")
    browser.submit(account="", account_number="100003")
    browser.submit(form=1, action="sso")  # form 0: the account chosen, and "Change account"
    browser.open(authorize(browser.location, ERIN_SUB))
    if 'name="stay"' in browser.page.text:
        browser.submit(stay="no")
    assert rp.id_token_claims(rp.exchange(browser.location))["amr"] == ["fed"]


def test_an_identity_providers_proof_does_not_open_another_account(
        browser, provider, second_app, erin_through_entra_id):
    """SECURITY.md 43: Contoso's provider vouched for erin in Contoso only; Acme asks her password."""
    rp = RelyingParty(provider, second_app, SECRET)
    browser.open(rp.authorize_url(account="100001"))
    assert "/signin/authenticate/" in browser.page.url and 'name="password"' in browser.page.text


def test_an_identity_providers_proof_still_opens_its_own_account_from_the_picker(
        browser, provider, second_app, erin_through_entra_id):
    rp = RelyingParty(provider, second_app, SECRET)
    browser.open(rp.authorize_url(prompt="select_account"))
    browser.submit(account="100003", account_number="")
    claims = rp.id_token_claims(rp.exchange(browser.location))  # no new proof asked for
    assert claims["mitel_account"]["number"] == "100003" and claims["amr"] == ["fed"]


def test_an_application_asking_for_the_sessions_own_account_signs_in_as_before(
        browser, provider, second_app, bob_in_globex):
    rp = RelyingParty(provider, second_app, SECRET)
    browser.open(rp.authorize_url(account="globex"))
    claims = rp.id_token_claims(rp.exchange(browser.location))
    assert claims["mitel_account"]["number"] == "100002"
    assert not AuditEvent.objects.filter(detail__carried_proof=True).exists()


def test_an_account_the_person_does_not_have_shows_their_picker(
        browser, provider, second_app, bob_in_globex):
    rp = RelyingParty(provider, second_app, SECRET)
    browser.open(rp.authorize_url(account="999999"))
    assert "/signin/account/" in browser.page.url and "Globex Partners" in browser.page.text


def test_prompt_none_for_another_account_answers_account_selection_required(
        browser, provider, second_app, bob_in_globex):
    rp = RelyingParty(provider, second_app, SECRET)
    browser.open(rp.authorize_url(prompt="none", account="100001"))
    assert browser.location.startswith(rp.redirect_uri)
    answer = query_of(browser.location)
    assert answer == {"error": "account_selection_required", "state": rp.state}


def test_a_bad_request_for_another_account_gets_the_error_page_not_the_picker(
        browser, provider, second_app, bob_in_globex):
    rp = RelyingParty(provider, second_app, SECRET)
    url = rp.authorize_url(prompt="select_account").replace(
        "two.mitel.example%2Fcb", "evil.example%2Fcb")
    response = browser.open(url)
    assert response.status_code == 400 and "evil.example" not in response.headers.get("Location", "")


def test_signing_out_after_a_switch_ends_both_applications_tokens(
        browser, provider, confidential_app, second_app):
    import requests

    first = RelyingParty(provider, confidential_app, SECRET)
    browser.open(first.authorize_url())
    browser.sign_in("bob@multi.example", account="GLOBEX")
    first_token = first.exchange(browser.location)
    second = RelyingParty(provider, second_app, SECRET)
    browser.open(second.authorize_url(account="100001"))
    second_token = second.exchange(browser.location)
    browser.open("/signout/")
    browser.submit()

    def refresh_works(rp, token):
        return requests.post(rp.config["token_endpoint"], auth=(rp.client_id, SECRET), timeout=10,
                             data={"grant_type": "refresh_token",
                                   "refresh_token": token["refresh_token"]}).status_code == 200

    assert not refresh_works(first, first_token) and not refresh_works(second, second_token)
    assert User.objects.get(username="bob@multi.example").is_active
