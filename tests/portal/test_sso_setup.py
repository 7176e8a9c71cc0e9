"""The guided Single Sign On set-up: a contact chooses, tests and turns on (and off) the identity
provider of their own account, against a real OpenID Connect provider on 127.0.0.1."""

import html
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.middleware import SIGNIN_METHOD_SESSION_KEY
from accounts.models import AuditEvent, Domain, MitelAccount
from sso.models import LinkedIdentity, SsoConnection
from tests.factories import MembershipFactory, MitelAccountFactory, UserFactory
from tests.portal.conftest import open_portal_as, text_of
from tests.sso.conftest import oidc_providers  # noqa: F401  (a fixture)
from tests.sso.oidc import authorize, come_back, deny

pytestmark = pytest.mark.django_db

SECRET = "clinic-secret-value-1"


@pytest.fixture
def clinic(oidc_providers):  # noqa: F811
    """Alpha Clinic on Mitel passwords; its contacts, a member without a password, and another
    account whose Decision Maker must reach nothing of it. Its provider knows ann and amy."""
    account = MitelAccountFactory(name="Alpha Clinic", account_number="515151")
    other = MitelAccountFactory(name="Bravo Works", account_number="525252")
    ann = UserFactory(username="ann@clinic.example")  # Decision Maker
    pat = UserFactory(username="pat@clinic.example")  # Phone Manager
    tess = UserFactory(username="tess@clinic.example")  # Technical Contact: sees, may not manage
    amy = UserFactory(username="amy@clinic.example", sso_only=True)  # no Mitel password
    ben = UserFactory(username="ben@bravo.example")  # Decision Maker of the other account
    support = UserFactory(username="sue@mitel.example", staff=True)  # sees SSO connections only
    support.groups.add(Group.objects.get(name="Support staff"))
    MembershipFactory(user=ann, account=account, decision_maker=True)
    MembershipFactory(user=pat, account=account, phone_manager=True)
    MembershipFactory(user=tess, account=account, technical_contact=True)
    MembershipFactory(user=amy, account=account)
    MembershipFactory(user=ben, account=other, decision_maker=True)
    Domain.objects.create(account=account, name="clinic.example", token="clinic-token",
                          verified_at=timezone.now(), verified_by=Domain.Method.STAFF)
    idp = oidc_providers.contoso
    idp.add_user("ann-at-idp", preferred_username="Ann@Clinic.example", name="Ann Alder")
    idp.add_user("amy-at-idp", preferred_username="amy@clinic.example", name="Amy Ash")
    idp.add_user("stranger-at-idp", preferred_username="eve@clinic.example", name="Eve")
    yield SimpleNamespace(account=account, other=other, ann=ann, pat=pat, tess=tess, amy=amy, ben=ben,
                          support=support, idp=idp)
    idp.reset()


def page_url(account: MitelAccount, tail: str = "") -> str:
    return f"/admin/sso/ssoconnection/setup/{account.account_number}/{tail}"


def signed_in_with_password(client, user):
    """A session as a password sign-in leaves it (its scope: accounts that take passwords)."""
    open_portal_as(client, user)
    session = client.session
    session[SIGNIN_METHOD_SESSION_KEY] = "password"
    session.save()
    return client


def save_entra_settings(client, clinic, **changes):
    data = {"provider": "azure_ad", "issuer_url": clinic.idp.issuer, "tenant_id": "",
            "client_id": "clinic-client", "client_secret": SECRET, **changes}
    return client.post(page_url(clinic.account), data)


def run_test(client, clinic, sub: str):
    """"Test connection", sign in at the provider as ``sub``, and come back: the final response."""
    response = client.post(page_url(clinic.account, "test/"))
    assert response.status_code == 302, text_of(response)
    assert response["Location"].startswith(clinic.idp.issuer)
    back = come_back(client, authorize(response["Location"], sub))
    assert back.status_code == 302 and back["Location"] == page_url(clinic.account), back
    return client.get(back["Location"])


def connection_of(clinic) -> SsoConnection:
    return SsoConnection.objects.get(account=clinic.account)


def test_a_decision_maker_sees_the_guided_page_with_the_redirect_uri_to_register(client, clinic):
    signed_in_with_password(client, clinic.ann)
    page = client.get(page_url(clinic.account), {"provider": "azure_ad"})
    assert page.status_code == 200
    text = text_of(page)
    assert "Alpha Clinic signs in with Mitel passwords" in text
    assert "http://testserver/sso/mitel-515151/callback/" in text
    assert 'data-copy="redirect-uri"' in text and "js/copy-button.js" in text
    assert "Directory (tenant) ID" in text and "Application (client) ID" in text
    # Okta is in beta, and this account is not in it.
    assert "Okta is in beta: ask Mitel support" in text
    assert page["Cache-Control"].startswith("max-age=0") or "no-cache" in page["Cache-Control"]


def test_the_dashboard_the_account_page_and_add_sso_connection_lead_to_the_guided_set_up(client, clinic):
    signed_in_with_password(client, clinic.ann)
    assert page_url(clinic.account) in text_of(client.get("/admin/"))
    account_page = client.get(f"/admin/accounts/mitelaccount/{clinic.account.pk}/change/")
    assert page_url(clinic.account) in text_of(account_page)
    add = client.get("/admin/sso/ssoconnection/add/")
    assert add.status_code == 302 and add["Location"] == "/admin/sso/ssoconnection/setup/"
    chooser = client.get("/admin/sso/ssoconnection/setup/")
    assert chooser.status_code == 302 and chooser["Location"] == page_url(clinic.account)


@pytest.mark.parametrize("who", ["tess", "ben", "support"])
def test_contacts_who_do_not_manage_the_accounts_sso_reach_nothing_and_change_nothing(client, clinic, who):
    save_entra_settings(signed_in_with_password(client, clinic.ann), clinic)
    client.logout()
    signed_in_with_password(client, getattr(clinic, who))
    before = (MitelAccount.objects.get(pk=clinic.account.pk).authentication,
              list(SsoConnection.objects.values_list("client_id", "client_secret", "tested_at")))
    assert client.get(page_url(clinic.account)).status_code == 404
    for tail in ("", "test/", "turn-on/", "turn-off/"):
        response = client.post(page_url(clinic.account, tail), {
            "provider": "azure_ad", "client_id": "pwned", "client_secret": "pwned", "keep_password": "no"})
        assert response.status_code == 404, tail
    after = (MitelAccount.objects.get(pk=clinic.account.pk).authentication,
             list(SsoConnection.objects.values_list("client_id", "client_secret", "tested_at")))
    assert after == before
    assert "Alpha Clinic" not in text_of(client.get("/admin/sso/ssoconnection/setup/"))


def test_a_user_without_a_role_does_not_reach_the_portal(client, clinic):
    signed_in_with_password(client, clinic.amy)
    response = client.get(page_url(clinic.account))
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_saving_the_settings_keeps_the_account_on_passwords_and_never_shows_the_secret(client, clinic):
    signed_in_with_password(client, clinic.pat)  # a Phone Manager may too
    response = save_entra_settings(client, clinic)
    assert response.status_code == 302
    connection = connection_of(clinic)
    assert (connection.identity_provider, connection.client_id, connection.client_secret) == (
        "azure_ad", "clinic-client", SECRET)
    assert MitelAccount.objects.get(pk=clinic.account.pk).authentication == "mitel"
    page = text_of(client.get(page_url(clinic.account)))
    assert SECRET not in page and "saved (never shown)" in page
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.SSO_CHANGED, account=clinic.account)
    assert event.actor == clinic.pat and SECRET not in str(event.detail)


def test_a_new_connection_needs_its_secret_and_the_providers_own_checks(client, clinic):
    signed_in_with_password(client, clinic.ann)
    no_secret = save_entra_settings(client, clinic, client_secret="")
    assert no_secret.status_code == 200 and "This field is required." in text_of(no_secret)
    bad_tenant = save_entra_settings(client, clinic, issuer_url="", tenant_id="common")
    assert "Enter the Directory (tenant) ID from Microsoft Entra ID" in text_of(bad_tenant)
    okta = client.post(page_url(clinic.account), {"provider": "okta", "issuer_url": "https://x.okta.example",
                                                  "client_id": "x", "client_secret": "x"})
    assert okta.status_code == 302  # not offered: back to the page, nothing saved
    assert not SsoConnection.objects.filter(account=clinic.account).exists()


def test_turn_on_is_refused_before_a_passing_test(client, clinic):
    signed_in_with_password(client, clinic.ann)
    save_entra_settings(client, clinic)
    page = text_of(client.get(page_url(clinic.account)))
    assert "Pass “Test connection” with the settings as they are now" in page
    response = client.post(page_url(clinic.account, "turn-on/"), {"keep_password": "yes"}, follow=True)
    assert "Pass “Test connection”" in text_of(response)
    assert MitelAccount.objects.get(pk=clinic.account.pk).authentication == "mitel"
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.SSO_TURNED_ON).exists()


def test_the_test_shows_the_claims_and_signs_nobody_in_nor_links_anyone(client, clinic):
    signed_in_with_password(client, clinic.ann)
    save_entra_settings(client, clinic)
    session_user, session_key = client.session["_auth_user_id"], client.session.session_key
    sign_ins = AuditEvent.objects.filter(kind=AuditEvent.Kind.SIGN_IN).count()  # open_portal_as's
    page = text_of(run_test(client, clinic, "ann-at-idp"))
    assert "Test passed" in page and "ann@clinic.example" in page
    assert "It matches your own Mitel username." in page
    assert "Ann Alder" in page and "preferred_username" in page  # the claims received
    assert (client.session["_auth_user_id"], client.session.session_key) == (session_user, session_key)
    assert client.session[SIGNIN_METHOD_SESSION_KEY] == "password"
    assert not LinkedIdentity.objects.exists()
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.SIGN_IN).count() == sign_ins
    connection = connection_of(clinic)
    assert connection.test_passed and connection.tested_by == clinic.ann
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.SSO_TESTED)
    assert event.detail["passed"] is True and event.detail["enterprise_username"] == "ann@clinic.example"
    assert event.actor == clinic.ann and event.account == clinic.account


def test_a_test_ends_with_the_contacts_session_and_another_contact_cannot_complete_it(client, clinic):
    signed_in_with_password(client, clinic.ann)
    save_entra_settings(client, clinic)
    started = client.post(page_url(clinic.account, "test/"))
    back = authorize(started["Location"], "ann-at-idp")
    client.logout()
    signed_in_with_password(client, clinic.pat)
    response = come_back(client, back)
    assert response.status_code == 400 and "This sign-in has expired" in text_of(response)
    assert not connection_of(clinic).test_passed
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.SSO_TESTED).exists()


def test_a_test_as_another_user_of_the_account_passes_and_says_so(client, clinic):
    signed_in_with_password(client, clinic.ann)
    save_entra_settings(client, clinic)
    page = text_of(run_test(client, clinic, "amy-at-idp"))
    assert "Test passed" in page and "It matches a user of Alpha Clinic (not you)." in page
    assert connection_of(clinic).test_passed


def test_a_test_as_nobody_of_the_account_fails_and_says_why(client, clinic):
    signed_in_with_password(client, clinic.ann)
    save_entra_settings(client, clinic)
    page = text_of(run_test(client, clinic, "stranger-at-idp"))
    assert "Test failed" in page
    assert "eve@clinic.example is not the Mitel username of anyone in Alpha Clinic" in page
    assert not connection_of(clinic).test_passed
    assert AuditEvent.objects.get(kind=AuditEvent.Kind.SSO_TESTED).detail["reason"] == "no_member"


def test_a_token_for_another_client_fails_the_test_through_the_same_id_token_checks(client, clinic):
    signed_in_with_password(client, clinic.ann)
    save_entra_settings(client, clinic)
    clinic.idp.edit_id_token = lambda token: token.signed({**token.claims, "aud": "someone-else"})
    page = text_of(run_test(client, clinic, "ann-at-idp"))
    assert "Test failed" in page and "did not pass our checks (audience)" in page
    assert not connection_of(clinic).test_passed
    assert not LinkedIdentity.objects.exists()


def test_a_sign_in_cancelled_at_the_provider_fails_the_test_back_on_the_set_up_page(client, clinic):
    signed_in_with_password(client, clinic.ann)
    save_entra_settings(client, clinic)
    started = client.post(page_url(clinic.account, "test/"))
    back = come_back(client, deny(started["Location"]))
    assert back.status_code == 302 and back["Location"] == page_url(clinic.account)
    page = text_of(client.get(back["Location"]))
    assert "Test failed" in page and "was cancelled" in page
    assert AuditEvent.objects.get(kind=AuditEvent.Kind.SSO_TESTED).detail["reason"] == "cancelled"


def test_an_edit_after_the_test_invalidates_it(client, clinic):
    signed_in_with_password(client, clinic.ann)
    save_entra_settings(client, clinic)
    run_test(client, clinic, "ann-at-idp")
    assert connection_of(clinic).test_passed
    client.post(page_url(clinic.account), {"provider": "azure_ad", "issuer_url": clinic.idp.issuer,
                                           "client_id": "clinic-client", "client_secret": "a-new-secret"})
    assert not connection_of(clinic).test_passed
    refused = client.post(page_url(clinic.account, "turn-on/"), {"keep_password": "yes"}, follow=True)
    assert "Pass “Test connection”" in text_of(refused)
    assert MitelAccount.objects.get(pk=clinic.account.pk).authentication == "mitel"


def test_turn_on_is_refused_without_a_verified_domain(client, clinic):
    Domain.objects.filter(account=clinic.account).delete()
    signed_in_with_password(client, clinic.ann)
    save_entra_settings(client, clinic)
    run_test(client, clinic, "ann-at-idp")
    refused = client.post(page_url(clinic.account, "turn-on/"), {"keep_password": "no"}, follow=True)
    assert "Verify at least one domain" in text_of(refused)
    assert MitelAccount.objects.get(pk=clinic.account.pk).authentication == "mitel"


def test_turn_on_with_password_kept_switches_the_account_and_the_session_keeps_its_powers(client, clinic):
    signed_in_with_password(client, clinic.ann)
    save_entra_settings(client, clinic)
    run_test(client, clinic, "ann-at-idp")
    response = client.post(page_url(clinic.account, "turn-on/"), {"keep_password": "yes"})
    assert response.status_code == 302
    account = MitelAccount.objects.get(pk=clinic.account.pk)
    assert (account.authentication, account.allow_password_sign_in) == ("azure_ad", True)
    page = text_of(client.get(page_url(clinic.account)))
    assert "signs in with Single Sign On through Microsoft Entra ID, or “Enter your password”" in page
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.SSO_TURNED_ON)
    assert event.actor == clinic.ann and event.detail["allow_password_sign_in"] is True
    assert event.detail["before"]["authentication"] == "mitel"


def test_turn_on_sso_only_ends_the_password_sessions_powers_and_offers_to_sign_in_again(client, clinic):
    signed_in_with_password(client, clinic.ann)
    save_entra_settings(client, clinic)
    run_test(client, clinic, "ann-at-idp")
    response = client.post(page_url(clinic.account, "turn-on/"), {"keep_password": "no"})
    assert response.status_code == 200
    text = text_of(response)
    assert "this session can no longer manage Alpha Clinic" in text
    assert 'action="/signout/"' in text and "login_hint=ann%40clinic.example" in text
    account = MitelAccount.objects.get(pk=clinic.account.pk)
    assert (account.authentication, account.allow_password_sign_in) == ("azure_ad", False)
    # A session proven by a password has no powers in an SSO-only account (SECURITY.md 43).
    assert client.get(page_url(clinic.account)).status_code in (302, 404)


def test_turn_off_goes_back_to_passwords_and_mails_those_without_one(
        client, clinic, mailoutbox, django_capture_on_commit_callbacks):
    MitelAccount.objects.filter(pk=clinic.account.pk).update(authentication="azure_ad",
                                                             allow_password_sign_in=True)
    signed_in_with_password(client, clinic.ann)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(page_url(clinic.account, "turn-off/"), follow=True)
    assert "1 person without a password will get an e-mail to choose one" in text_of(response)
    account = MitelAccount.objects.get(pk=clinic.account.pk)
    assert (account.authentication, account.allow_password_sign_in) == ("mitel", False)
    assert [mail.to for mail in mailoutbox] == [[clinic.amy.email]]
    link = next(word for word in mailoutbox[0].body.split() if "/password/reset/" in word)
    assert link.startswith("http://testserver/password/reset/")
    off = AuditEvent.objects.get(kind=AuditEvent.Kind.SSO_TURNED_OFF)
    assert off.actor == clinic.ann and off.detail["set_password_mails"] == 1
    mailed = AuditEvent.objects.get(kind=AuditEvent.Kind.PASSWORD_RESET_REQUESTED)
    assert (mailed.user, mailed.actor, mailed.detail["reason"]) == (clinic.amy, clinic.ann, "sso_turned_off")
    client.logout()
    assert client.get(link.replace("http://testserver", "")).status_code in (200, 302)


def test_an_account_in_the_okta_beta_sets_up_and_turns_on_okta(client, clinic):
    MitelAccount.objects.filter(pk=clinic.account.pk).update(okta_beta=True)
    signed_in_with_password(client, clinic.ann)
    page = text_of(client.get(page_url(clinic.account), {"provider": "okta"}))
    assert "Okta (Beta)" in page and "Okta org or authorization server URL" in page
    assert "tenant" not in page.lower()
    assert "In Okta" in page and "http://testserver/sso/mitel-515151/callback/" in page
    saved = client.post(page_url(clinic.account), {"provider": "okta", "issuer_url": clinic.idp.issuer,
                                                   "client_id": "clinic-okta", "client_secret": SECRET})
    assert saved.status_code == 302
    assert "Test passed" in text_of(run_test(client, clinic, "amy-at-idp"))
    client.post(page_url(clinic.account, "turn-on/"), {"keep_password": "yes"})
    account = MitelAccount.objects.get(pk=clinic.account.pk)
    assert (account.authentication, account.sso_enabled) == ("okta", True)


def test_the_set_up_page_and_its_failed_test_speak_the_contacts_language(client, clinic):
    signed_in_with_password(client, clinic.ann)
    client.cookies["mitel_language"] = "fr"
    save_entra_settings(client, clinic)
    failed = html.unescape(text_of(run_test(client, clinic, "stranger-at-idp")))
    for french in ("1. Choisissez le fournisseur d'identité", "Tester la connexion",
                   "Enregistrer les paramètres", "Secret client : enregistré (jamais affiché).",
                   "Test échoué", "Il ne correspond à personne dans Alpha Clinic.",
                   "eve@clinic.example n'est le nom d'utilisateur Mitel de personne dans Alpha Clinic.",
                   "Réussissez « Tester la connexion » avec les paramètres actuels (étape 4)."):
        assert french in failed, french
    assert "ajoutez une plateforme Web avec cet URI de redirection :</p>" in failed  # French spacing
    assert 'data-copied="Copié." data-not-copied="Copie impossible : sélectionnez le texte' in failed
    for english in ("Test connection", "Save settings", "Test failed", "It matches nobody",
                    "is not the Mitel username of anyone", "Pass “Test connection”"):
        assert english not in failed, english
