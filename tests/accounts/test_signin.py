"""The identifier-first sign-in with Mitel authentication (docs/design.md section 3, steps 1-3, 6, 7)."""

import re

import pytest
from django.conf import settings

from accounts.models import Application, AuditEvent
from tests.signin import (
    DEMO_PASSWORD,
    choose_account,
    enter_password,
    enter_username,
    post_step,
    sign_in,
    start,
    stay_signed_in,
)

pytestmark = pytest.mark.django_db


def test_alice_signs_in_and_lands_in_the_application(client, demo):
    response = sign_in(client, "alice@acme.example", app="connect-portal",
                       next="/admin/accounts/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/accounts/"
    assert client.session["_auth_user_id"] == str(demo["alice@acme.example"].pk)
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.SIGN_IN)
    assert (event.user.username, event.account.name, event.application.slug, event.method) == (
        "alice@acme.example", "Acme Dental", "connect-portal", "password")
    assert event.ip_address == "127.0.0.1"


@pytest.mark.parametrize("wanted", ["http://127.0.0.1:8000/admin/", "//evil.example/admin/",
                                    "/\\evil.example/admin/", "/me/", "https://evil.example/admin/"])
def test_the_connect_portal_follows_the_server_it_is_served_from_and_refuses_other_places(
        client, demo, wanted):
    """The portal's application is a path of this site: its home and its allowed ``next`` follow
    whatever address the server answers at, and nothing outside /admin/ is honoured."""
    response = sign_in(client, "alice@acme.example", app="connect-portal", next=wanted)
    assert response["Location"] == "/admin/"


def test_a_link_deep_into_the_connect_portal_lands_there_after_signing_in(client, demo):
    wanted = "/admin/accounts/user/?q=mallory"
    first = client.get(wanted)
    login = client.get(first["Location"])
    assert login["Location"].startswith("/signin/?app=connect-portal&next=")
    start(client, app="connect-portal", next=wanted)
    assert sign_in(client, "grace@acme.example", app="connect-portal", next=wanted)["Location"] == wanted


def test_the_first_screen_names_the_application_and_helps_with_a_forgotten_username(client, demo):
    page = start(client, app="miteam-meetings").content.decode()
    assert "<h1>Sign in to MiTeam Meetings</h1>" in page
    assert 'autocomplete="username"' in page
    assert "Forgot your username?" in page and "Authorized Contact" in page
    assert "Personal Information" in page
    assert "<h1>Sign in to Mitel</h1>" in start(client).content.decode()


def test_login_hint_prefills_the_username(client, demo):
    page = start(client, login_hint="alice@acme.example").content.decode()
    assert 'value="alice@acme.example"' in page


def test_any_variant_of_the_username_signs_in(client, demo):
    response = sign_in(client, "  ALICE@Acme.example ")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(demo["alice@acme.example"].pk)


def test_wrong_password_shows_the_message_marks_the_field_and_offers_forgot_password(client, demo):
    enter_username(client, "alice@acme.example")
    response = enter_password(client, "wrong password entirely")
    page = response.content.decode()
    assert response.status_code == 200
    assert "The username or password is incorrect." in page
    assert re.search(r'<input type="password" name="password"[^>]*aria-invalid="true"', page)
    assert 'aria-describedby="id_password-error"' in page
    assert '<p class="error" id="id_password-error">' in page
    assert 'href="/password/forgot/"' in page and "Forgot Password" in page
    assert "_auth_user_id" not in client.session
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.SIGN_IN_FAILED)
    assert event.user == demo["alice@acme.example"] and event.detail["reason"] == "bad_credentials"


def test_an_empty_password_is_asked_for_again_without_counting(client, demo):
    enter_username(client, "alice@acme.example")
    response = enter_password(client, "")
    assert "Enter your password." in response.content.decode()
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.SIGN_IN_FAILED).exists()


@pytest.mark.parametrize("typed", ["", "   ", "a" * 255, "alice\x00@acme.example"])
def test_bad_usernames_get_a_clear_message_and_stay_on_the_first_screen(client, demo, typed):
    start(client)
    response = enter_username(client, typed)
    assert response.status_code == 200
    assert 'aria-invalid="true"' in response.content.decode()
    assert client.session["signin_flow"]["done"] == []


def test_stay_signed_in_yes_gives_a_persistent_session(client, demo):
    sign_in(client, "alice@acme.example", stay=True)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["max-age"] == settings.SESSION_COOKIE_AGE


def test_stay_signed_in_no_gives_a_session_that_ends_with_the_browser(client, demo):
    sign_in(client, "alice@acme.example", stay=False)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["max-age"] == "" and cookie["expires"] == ""
    assert client.session.get_expire_at_browser_close()


def test_the_stay_screen_asks_before_the_app_opens(client, demo):
    enter_username(client, "alice@acme.example")
    response = enter_password(client, DEMO_PASSWORD)
    assert response["Location"] == "/signin/stay/"
    page = client.get("/signin/stay/").content.decode()
    assert "Stay signed in?" in page and "30 days" in page
    assert "_auth_user_id" not in client.session


# --- Multiple accounts located ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("how", "value"),
    [("account", "100002"), ("typed", "100002"), ("typed", "GLOBEX"), ("typed", " globex ")],
)
def test_bob_picks_globex_before_the_password(client, demo, how, value):
    response = enter_username(client, "bob@multi.example", app="miteam-meetings")
    assert response["Location"] == "/signin/account/"
    page = client.get("/signin/account/").content.decode()
    assert "Multiple accounts located" in page
    assert "Acme Dental (100001)" in page and "Globex Partners (100002)" in page
    response = choose_account(client, **({"account": value} if how == "account" else {"typed": value}))
    assert response["Location"] == "/signin/authenticate/"
    assert "Globex Partners" in client.get("/signin/authenticate/").content.decode()
    enter_password(client, DEMO_PASSWORD)
    stay_signed_in(client)
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.SIGN_IN)
    assert event.account.account_number == "100002"


def test_bob_picks_the_account_after_the_password_when_the_application_says_so(client, demo):
    response = enter_username(client, "bob@multi.example", app="connect-client")
    assert response["Location"] == "/signin/authenticate/"
    response = enter_password(client, DEMO_PASSWORD)
    assert response["Location"] == "/signin/account/"
    response = choose_account(client, typed="ACME-DENTAL")
    assert response["Location"] == "/signin/stay/"
    response = stay_signed_in(client)
    assert response["Location"] == "https://connect.mitel.example/"
    assert AuditEvent.objects.get(kind=AuditEvent.Kind.SIGN_IN).account.name == "Acme Dental"


def test_an_account_in_the_link_preselects_it(client, demo):
    response = enter_username(client, "bob@multi.example", account="GLOBEX")
    assert response["Location"] == "/signin/authenticate/"
    enter_password(client, DEMO_PASSWORD)
    stay_signed_in(client)
    assert AuditEvent.objects.get(kind=AuditEvent.Kind.SIGN_IN).account.name == "Globex Partners"


@pytest.mark.parametrize("typed", ["100003", "999999", "CONTOSO", "not-an-account", "1" * 70])
def test_an_account_bob_is_not_in_is_refused_like_a_typo(client, demo, typed):
    enter_username(client, "bob@multi.example")
    response = choose_account(client, typed=typed)
    assert response.status_code == 200
    assert "We couldn&#x27;t find that account for your username." in response.content.decode()
    assert client.session["signin_flow"]["account_id"] is None


def test_a_forged_drop_down_value_is_refused_like_a_typo(client, demo):
    enter_username(client, "bob@multi.example")
    response = choose_account(client, account="100003")
    assert "We couldn&#x27;t find that account for your username." in response.content.decode()


def test_the_picker_needs_a_choice(client, demo):
    enter_username(client, "bob@multi.example")
    response = choose_account(client)
    assert "Choose your account, or type its Account Number or Partner Label." in (
        response.content.decode())


# --- No step can be skipped to ---------------------------------------------------------------


def test_steps_cannot_be_skipped_to(client, demo):
    assert client.get("/signin/stay/")["Location"] == "/signin/"
    enter_username(client, "alice@acme.example")
    assert client.get("/signin/stay/")["Location"] == "/signin/authenticate/"
    response = stay_signed_in(client)
    assert response["Location"] == "/signin/authenticate/"
    assert "_auth_user_id" not in client.session
    assert client.get("/signin/account/")["Location"] == "/signin/authenticate/"


def test_a_form_from_another_flow_is_refused(client, demo):
    enter_username(client, "alice@acme.example")
    response = client.post("/signin/authenticate/", {"flow": "stale", "password": DEMO_PASSWORD})
    assert response["Location"] == "/signin/authenticate/"
    assert not client.session["signin_flow"]["authenticated"]


def test_a_signed_in_user_opening_the_link_goes_straight_to_the_application(client, demo):
    sign_in(client, "alice@acme.example")
    response = start(client, app="miteam-meetings", next="https://meetings.mitel.example/room/42")
    assert response["Location"] == "https://meetings.mitel.example/room/42"


def test_a_second_username_typed_in_the_same_sign_in_starts_over_with_that_persons_accounts(
        client, demo):
    enter_username(client, "alice@acme.example")
    response = post_step(client, "username", {"username": "bob@multi.example"})  # the same flow
    assert response["Location"] == "/signin/account/"
    assert "Globex Partners" in client.get("/signin/account/").content.decode()
    choose_account(client, account="100002")
    enter_password(client, DEMO_PASSWORD)
    assert stay_signed_in(client).status_code == 302
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.SIGN_IN)
    assert (event.user.username, event.account.account_number) == ("bob@multi.example", "100002")


def test_not_you_starts_again_for_the_same_application_or_for_none(client, demo):
    enter_username(client, "alice@acme.example")
    assert '<a href="/signin/">Not you?</a>' in client.get("/signin/authenticate/").content.decode()
    enter_username(client, "alice@acme.example", app="miteam-meetings")
    page = client.get("/signin/authenticate/").content.decode()
    assert '<a href="/signin/?app=miteam-meetings">Not you?</a>' in page


def test_a_step_asked_for_before_the_username_leads_to_the_username_page(client, demo):
    start(client, app="miteam-meetings")
    post_step(client, "username", {"username": ""})  # Next with no username: the flow is kept
    assert client.get("/signin/authenticate/")["Location"] == "/signin/"


def test_a_wrong_password_is_recorded_with_the_application_and_the_account(client, demo):
    enter_username(client, "alice@acme.example", app="miteam-meetings")
    enter_password(client, "not the password at all")
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.SIGN_IN_FAILED)
    assert (event.application.slug, event.account.account_number, event.method) == (
        "miteam-meetings", "100001", "password")


# --- Redirects (SECURITY.md 22) ----------------------------------------------------------------


@pytest.mark.parametrize(
    "evil",
    [
        "//evil.example",
        "https:evil.example",
        "\\\\evil.example",
        "/\\evil.example",
        "javascript:alert(1)",
        "https://evil.example/",
        "https://meetings.mitel.example.evil.example/",
        "https://meetings.mitel.example@evil.example/",
        "http://meetings.mitel.example/",
    ],
)
def test_next_never_leaves_for_another_site(client, demo, evil):
    page = start(client, app="miteam-meetings", next=evil).content.decode()
    assert "would send you to an address we don" in page
    response = sign_in(client, "alice@acme.example")
    assert response["Location"] == "https://meetings.mitel.example/"


@pytest.mark.parametrize("evil", ["//evil.example", "https:evil.example", "\\\\evil.example",
                                  "/\\evil.example", "javascript:alert(1)", "https://evil.example",
                                  # a URL naming a host, even this one, is not a path of this site
                                  "//testserver/admin/", "/\\testserver/admin/", "http://testserver/admin/"])
def test_next_without_an_application_stays_on_this_site(client, demo, evil):
    page = start(client, next=evil).content.decode()
    assert "would send you to an address we don" in page
    response = sign_in(client, "alice@acme.example")
    assert response["Location"] == settings.LOGIN_REDIRECT_URL


def test_a_local_next_without_an_application_is_honoured(client, demo):
    start(client, next="/admin/accounts/user/")
    assert sign_in(client, "alice@acme.example")["Location"] == "/admin/accounts/user/"


def test_next_inside_the_application_is_honoured(client, demo):
    start(client, app="miteam-meetings", next="https://meetings.mitel.example/join?id=7")
    assert sign_in(client, "alice@acme.example")["Location"] == (
        "https://meetings.mitel.example/join?id=7")


def test_next_is_checked_again_when_the_sign_in_ends(client, demo):
    """An application's addresses changed while someone signs in: the ``next`` its old link
    carried is no longer one of them, and the sign-in ends at its new home URL."""
    start(client, app="miteam-meetings", next="https://meetings.mitel.example/join?id=7")
    enter_username(client, "alice@acme.example")
    enter_password(client, DEMO_PASSWORD)
    meetings = Application.objects.get(slug="miteam-meetings")
    meetings.home_url = meetings.redirect_urls = "https://meet.mitel.example/"
    meetings.save()
    assert stay_signed_in(client)["Location"] == "https://meet.mitel.example/"


# --- Bad links (SECURITY.md 35) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"app": "no-such-app"}, "names an application we don"),
        ({"app": "<script>alert(1)</script>"}, "names an application we don"),
        ({"account": "<b>1</b>"}, "is not an Account Number or Partner Label"),
        ({"account": "1" * 80}, "is not an Account Number or Partner Label"),
        ({"login_hint": "a" * 300}, "The username in this sign-in link is not valid"),
        ({"login_hint": "bob\x00@x"}, "The username in this sign-in link is not valid"),
        ({"next": "https://evil.example"}, "would send you to an address we don"),
    ],
)
def test_malformed_link_parameters_get_a_clear_message(client, demo, params, message):
    response = start(client, **params)
    page = response.content.decode()
    assert response.status_code == 200
    assert message in page
    assert "<script>alert(1)</script>" not in page


def test_a_foreign_account_in_the_link_is_ignored_for_a_single_account_user(client, demo):
    enter_username(client, "alice@acme.example", account="100002")
    enter_password(client, DEMO_PASSWORD)
    stay_signed_in(client)
    assert AuditEvent.objects.get(kind=AuditEvent.Kind.SIGN_IN).account.name == "Acme Dental"


# --- Sign out, sessions (SECURITY.md 26, 27) ----------------------------------------------------


def test_the_session_key_rotates_on_every_step_that_raises_privilege(client, demo):
    start(client)
    first = client.session.session_key
    enter_username(client, "alice@acme.example")
    assert client.session.session_key == first  # nothing proven yet
    enter_password(client, DEMO_PASSWORD)
    after_password = client.session.session_key
    assert after_password != first
    stay_signed_in(client)
    assert client.session.session_key not in {first, after_password}


def test_after_sign_out_the_old_cookie_opens_nothing(client, demo):
    from django.test import Client

    from accounts.models import UserSession

    sign_in(client, "alice@acme.example")
    old_cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert UserSession.objects.filter(session_key=old_cookie).exists()
    assert client.post("/signout/")["Location"] == "/signin/"
    assert not UserSession.objects.filter(session_key=old_cookie).exists()
    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = old_cookie
    assert replay.get("/signin/").status_code == 200  # the sign-in form, not a redirect onward
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.SIGN_OUT).count() == 1


def test_sign_out_by_get_only_asks(client, demo):
    sign_in(client, "alice@acme.example")
    response = client.get("/signout/")
    assert response.status_code == 200 and "Sign out" in response.content.decode()
    assert "_auth_user_id" in client.session


def test_deactivating_a_user_ends_their_sessions(client, demo):
    from accounts.models import UserSession

    sign_in(client, "alice@acme.example")
    alice = demo["alice@acme.example"]
    assert UserSession.objects.filter(user_id=alice.pk).count() == 1
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    assert not UserSession.objects.filter(user_id=alice.pk).exists()
    response = client.get("/signin/")
    assert response.status_code == 200  # the form again, not a redirect onward
    assert not response.wsgi_request.user.is_authenticated


def test_an_inactive_user_cannot_sign_in_and_is_told_as_for_a_wrong_password(client, demo):
    alice = demo["alice@acme.example"]
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    enter_username(client, "alice@acme.example")
    response = enter_password(client, DEMO_PASSWORD)
    assert "The username or password is incorrect." in response.content.decode()


def test_a_session_without_the_code_of_a_device_set_up_since_signs_in_again(client, demo):
    """No loop between the Connect Portal (which refuses it) and the sign-in page."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    sign_in(client, "grace@acme.example")  # a Decision Maker: the Connect Portal is hers
    assert client.get("/admin/").status_code == 200
    TOTPDevice.objects.create(user=demo["grace@acme.example"], name="phone", confirmed=True)
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    response = client.get(response["Location"])
    assert response["Location"].startswith("/signin/?app=connect-portal")
    page = client.get(response["Location"])
    assert page.status_code == 200 and "Sign in to Mitel Connect Portal" in page.content.decode()


def test_signing_out_says_so(client, demo):
    sign_in(client, "alice@acme.example")
    response = client.post("/signout/", follow=True)
    assert "You have signed out." in response.content.decode()
    page = client.get("/signout/").content.decode()
    assert "<h1>You have signed out</h1>" in page


@pytest.mark.parametrize("path", ["/me/", "/admin/"])
def test_every_signed_in_page_has_a_sign_out_button(client, demo, path):
    sign_in(client, "alice@acme.example")  # no contact role: /admin/ is "No access"
    page = client.get(path, follow=True).content.decode()
    assert re.search(r'<form method="post" action="/signout/">\s*<input type="hidden" '
                     r'name="csrfmiddlewaretoken"[^>]*>\s*<button type="submit"[^>]*>Sign out</button>', page)
