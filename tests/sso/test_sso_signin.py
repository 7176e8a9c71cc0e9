"""Single Sign On through the sign-in flow, end to end against real OpenID Connect providers."""

from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.socialaccount.models import SocialAccount

from accounts.models import AuditEvent, User
from sso.models import LinkedIdentity

from .oidc import (
    ERIN_SUB,
    FRANK_SUB,
    authorize,
    come_back,
    deny,
    enter_username,
    flow_id,
    press_single_sign_on,
    sign_in_with_sso,
    signed_in_user_id,
    stay_signed_in,
)

pytestmark = pytest.mark.django_db


def test_erin_signs_in_with_entra_id_whose_username_is_only_in_the_id_token(client, sso):
    users_before = User.objects.count()
    enter_username(client, "erin@contoso.example")
    page = client.get("/signin/authenticate/")
    assert b"Single Sign On" in page.content and b"Enter your password" in page.content

    to_provider = press_single_sign_on(client)
    assert to_provider.startswith(f"{sso.contoso.issuer}/oauth2/authorize?")
    query = parse_qs(urlsplit(to_provider).query)
    assert query["login_hint"] == ["erin@contoso.example"]
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"]
    assert query["nonce"] and query["state"]
    assert query["redirect_uri"] == ["http://testserver/sso/mitel-100003/callback/"]

    key_before = client.session.session_key
    back = come_back(client, authorize(to_provider, ERIN_SUB))
    assert back.status_code == 302 and back["Location"] == "/signin/stay/"
    assert client.session.session_key != key_before  # proof of identity rotates the session key
    assert signed_in_user_id(client) is None  # nobody is signed in before the flow finishes

    done = stay_signed_in(client)
    assert done.status_code == 302 and done["Location"] == "/me/"
    erin = sso.users["erin@contoso.example"]
    assert signed_in_user_id(client) == erin.pk
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.SIGN_IN)
    assert (event.user, event.method, event.account.account_number) == (erin, "azure_ad", "100003")
    assert LinkedIdentity.objects.filter(user=erin, issuer=sso.contoso.issuer, subject=ERIN_SUB).exists()
    assert User.objects.count() == users_before and not SocialAccount.objects.exists()


def test_frank_signs_in_with_okta_and_is_offered_no_password(client, sso):
    enter_username(client, "frank@initech.example")
    page = client.get("/signin/authenticate/")
    assert b"Single Sign On" in page.content and b"Enter your password" not in page.content

    back = sign_in_with_sso(client, "frank@initech.example", FRANK_SUB)
    assert back["Location"] == "/signin/stay/"
    stay_signed_in(client)
    frank = sso.users["frank@initech.example"]
    assert signed_in_user_id(client) == frank.pk
    assert AuditEvent.objects.get(kind=AuditEvent.Kind.SIGN_IN).method == "okta"


def test_a_company_account_with_another_username_is_refused_and_told_whom_to_ask(client, sso):
    sso.contoso.add_user("entra-mallory", preferred_username="mallory@contoso.example")
    response = sign_in_with_sso(client, "erin@contoso.example", "entra-mallory")
    assert response.status_code == 403
    page = response.content.decode()
    assert "does not match your Mitel username" in page
    assert "mallory@contoso.example" in page and "erin@contoso.example" in page
    assert "Authorized Contact" in page and 'class="site-header"' in page
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.SSO_MISMATCH)
    assert event.user == sso.users["erin@contoso.example"]
    assert event.detail["enterprise_username"] == "mallory@contoso.example"
    assert event.detail["subject"] == "entra-mallory"
    assert signed_in_user_id(client) is None
    assert not LinkedIdentity.objects.exists()
    # The flow is still waiting at Single Sign On: the person can try again with the right account.
    assert b"Single Sign On" in client.get("/signin/authenticate/").content


def test_a_provider_that_asserts_no_username_at_all_is_a_mismatch(client, sso):
    sso.contoso.add_user("entra-nameless", name="No Name")
    response = sign_in_with_sso(client, "erin@contoso.example", "entra-nameless")
    assert response.status_code == 403
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.SSO_MISMATCH).count() == 1


def test_refused_consent_at_the_provider_gets_our_page_and_an_audit_event(client, sso):
    enter_username(client, "erin@contoso.example")
    response = come_back(client, deny(press_single_sign_on(client)))
    assert response.status_code == 403
    assert "You did not finish signing in to Microsoft Entra ID" in response.content.decode()
    assert 'class="site-header"' in response.content.decode()
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.SSO_ERROR)
    assert event.detail["reason"] == "cancelled" and event.account.account_number == "100003"
    assert signed_in_user_id(client) is None


def unused_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def point_contoso_at(issuer: str) -> None:
    from sso.models import SsoConnection
    from sso.services.connections import save_connection

    connection = SsoConnection.objects.get(account__account_number="100003")
    connection.issuer_url = issuer
    save_connection(connection)


def test_an_unreachable_discovery_document_gets_our_page_not_a_traceback(client, sso):
    point_contoso_at(f"http://127.0.0.1:{unused_port()}")
    enter_username(client, "erin@contoso.example")
    response = client.post("/sso/start/", {"flow": flow_id(client)})
    assert response.status_code == 502
    page = response.content.decode()
    assert "We could not reach Microsoft Entra ID" in page and "Try again" in page
    assert "Traceback" not in page and 'class="site-header"' in page
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.SSO_ERROR)
    assert event.detail["reason"] == "unreachable" and "Connection" in event.detail["error"]


def test_a_provider_gone_between_the_button_and_the_return_gets_our_page(client, sso):
    enter_username(client, "erin@contoso.example")
    redirect_back = authorize(press_single_sign_on(client), ERIN_SUB)
    from allauth.socialaccount.models import SocialApp

    app = SocialApp.objects.get(provider_id="mitel-100003")
    app.settings = {**app.settings, "server_url": f"http://127.0.0.1:{unused_port()}"}
    app.save()
    response = come_back(client, redirect_back)
    assert response.status_code == 502
    assert AuditEvent.objects.get(kind=AuditEvent.Kind.SSO_ERROR).detail["reason"] == "unreachable"
    assert signed_in_user_id(client) is None


def test_a_discovery_document_naming_another_issuer_is_refused(client, sso):
    from allauth.socialaccount.models import SocialApp

    # The discovery document of the Initech provider, fetched for a connection whose issuer differs.
    app = SocialApp.objects.get(provider_id="mitel-100003")
    app.settings = {**app.settings, "server_url": f"{sso.initech.issuer}/.well-known/openid-configuration"}
    app.save()
    enter_username(client, "erin@contoso.example")
    response = client.post("/sso/start/", {"flow": flow_id(client)})
    assert response.status_code == 502 and not response.has_header("Location")
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.SSO_ERROR)
    assert event.detail["error"].startswith("discovery_issuer")


def test_okta_outside_the_beta_says_sso_is_not_yet_available_to_users_without_a_password(client, sso):
    from accounts.models import MitelAccount

    MitelAccount.objects.filter(account_number="100004").update(okta_beta=False)
    enter_username(client, "frank@initech.example")
    page = client.get("/signin/authenticate/")
    assert page.status_code == 200
    assert b"not yet available" in page.content and b'value="sso"' not in page.content
    pressed = client.post("/signin/authenticate/", {"flow": flow_id(client), "action": "sso"})
    assert pressed.status_code == 200 and not pressed.has_header("Location")


def test_okta_outside_the_beta_offers_the_password_to_users_who_have_one(client, sso):
    from accounts.models import MitelAccount
    from tests.factories import PASSWORD, MembershipFactory, UserFactory

    initech = MitelAccount.objects.get(account_number="100004")
    MitelAccount.objects.filter(pk=initech.pk).update(okta_beta=False)
    MembershipFactory(user=UserFactory(username="peter@initech.example"), account=initech)
    enter_username(client, "peter@initech.example")
    page = client.get("/signin/authenticate/")
    assert b'name="password"' in page.content and b"Single Sign On" not in page.content
    response = client.post("/signin/authenticate/", {"flow": flow_id(client), "password": PASSWORD})
    assert response["Location"] == "/signin/stay/"


@pytest.mark.parametrize("path", [
    "/accounts/login/", "/accounts/signup/", "/accounts/3rdparty/", "/oidc/mitel-100003/login/",
    "/sso/mitel-100003/login/", "/sso/openid_connect/callback/", "/sso/mitel-999999/callback/",
])
def test_allauths_own_pages_are_not_reachable(client, sso, path):
    assert client.get(path).status_code == 404


def test_a_callback_nobody_started_gets_our_page(client, sso):
    response = client.get("/sso/mitel-100003/callback/", {"code": "forged", "state": "forged"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "This sign-in has expired" in page and 'class="site-header"' in page
    assert AuditEvent.objects.get(kind=AuditEvent.Kind.SSO_ERROR).detail["check"] == "state"


@pytest.mark.parametrize("template", [
    "socialaccount/authentication_error.html", "socialaccount/login_cancelled.html",
    "socialaccount/login_redirect.html", "account/signup_closed.html", "account/account_inactive.html",
])
def test_allauths_pages_wear_the_portals_look(rf, template):
    from django.template.loader import render_to_string

    page = render_to_string(template, {}, request=rf.get("/"))
    assert 'class="site-header"' in page and "Start signing in again" in page
    assert "Third-Party" not in page and "Sign Up" not in page


def test_an_sso_account_without_a_connection_says_sso_is_not_set_up(client, sso):
    from sso.models import SsoConnection

    SsoConnection.objects.filter(account__account_number="100003").delete()
    enter_username(client, "erin@contoso.example")
    response = client.post("/sso/start/", {"flow": flow_id(client)})
    assert response.status_code == 503
    assert "Single Sign On is not set up for this account yet" in response.content.decode()
    assert AuditEvent.objects.get(kind=AuditEvent.Kind.SSO_ERROR).detail["reason"] == "not_configured"


def test_an_account_is_not_signed_in_by_its_provider_under_another_accounts_domain(client, sso):
    """SECURITY.md 43: a username under Contoso's verified domain, in Initech's account only, is
    not sent to Initech's identity provider: that provider does not speak for contoso.example."""
    from accounts.models import MitelAccount
    from tests.factories import MembershipFactory, UserFactory

    initech = MitelAccount.objects.get(account_number="100004")
    MembershipFactory(user=UserFactory(username="olivia@contoso.example"), account=initech)
    enter_username(client, "olivia@contoso.example")
    page = client.get("/signin/authenticate/").content.decode()
    assert "Initech signs in with Okta, but not for usernames under contoso.example" in page
    assert 'value="sso"' not in page
    pressed = client.post("/sso/start/", {"flow": flow_id(client)})
    assert not pressed.get("Location", "").startswith(sso.initech.issuer)
    assert signed_in_user_id(client) is None


def test_an_unknown_username_under_a_verified_domain_is_shown_that_accounts_single_sign_on(client, sso):
    """SECURITY.md 46: nobody has this username, but its domain is Contoso's: the screens are those a
    Contoso user sees, so they say nothing about who exists."""
    enter_username(client, "nobody-here@contoso.example")
    page = client.get("/signin/authenticate/").content.decode()
    assert "Contoso Ltd signs in with Microsoft Entra ID" in page and 'value="sso"' in page
