"""``/password/forgot/`` and the reset link (docs/design.md 4; SECURITY.md 2, 3, 10, 13, 14)."""

import re
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from accounts.models import AuditEvent, User
from accounts.services.passwords import (
    change_password,
    check_reset_token,
    reset_link_path,
    send_password_reset,
)
from tests.factories import LockoutFactory, MembershipFactory, MitelAccountFactory, UserFactory

from .password_helpers import (
    DEMO_PASSWORD,
    NEW_PASSWORD,
    audit_kinds,
    is_signed_in,
    new_password,
    post_step,
    start_sign_in,
)

ALICE = "alice@acme.example"
RESET_PATH = re.compile(r"http://testserver(/password/reset/[^/\s]+/[^/\s]+/)")


def ask_for_reset(client: Client, login: str):
    return client.post("/password/forgot/", {"login": login})


def link_in(mail) -> str:
    return RESET_PATH.search(mail.body).group(1)


def set_new_password(client: Client, link: str, password: str = NEW_PASSWORD, again: str | None = None):
    opened = client.get(link)
    assert opened.status_code == 302, opened.content.decode()
    return client.post(opened["Location"], new_password(password, again))


def shows_invalid_link(response) -> bool:
    return response.status_code == 200 and "This link can't be used" in response.content.decode()


def acme_member(username: str, **user) -> User:
    """A password user of a Mitel-authenticated account, with the demo password."""
    return MembershipFactory(user__username=username, user__password=DEMO_PASSWORD,
                             **{f"user__{key}": value for key, value in user.items()}).user


@pytest.fixture
def alice(db) -> User:
    return acme_member(ALICE)


@pytest.fixture
def frank(db) -> User:
    """Single Sign On only: Initech signs in with Okta."""
    initech = MitelAccountFactory(name="Initech", okta=True)
    return MembershipFactory(user__username="frank@initech.example", user__sso_only=True,
                             account=initech).user


@pytest.fixture
def mallory(db) -> User:
    """Locked out by failed sign-ins."""
    LockoutFactory(key="mallory@acme.example")
    return acme_member("mallory@acme.example")


@pytest.fixture
def alice_link(client, alice, mailoutbox) -> str:
    ask_for_reset(client, ALICE)
    [mail] = mailoutbox
    mailoutbox.clear()
    return link_in(mail)


# --- The same answer, whoever is asked for (SECURITY.md 2) --------------------------------------


@pytest.mark.django_db
def test_forgot_password_answers_the_same_whoever_is_asked_for(alice, frank, mallory, hash_calls,
                                                                mailoutbox):
    User.objects.create_user("gone@acme.example", DEMO_PASSWORD, email="gone@acme.example",
                             is_active=False)
    User.objects.create_user("nomail@acme.example", DEMO_PASSWORD)
    answers = set()
    for typed in ["nobody@acme.example", ALICE, "Alice@ACME.example ", "frank@initech.example",
                  "mallory@acme.example", "gone@acme.example", "nomail@acme.example", "x"]:
        client = Client()
        with hash_calls() as calls:
            response = ask_for_reset(client, typed)
        page = client.get(response["Location"])
        # Every page carries the language switcher's CSRF token, which differs per browser.
        content = re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", page.content)
        answers.add((response.status_code, response["Location"], calls.count, page.status_code,
                     content))
    [(status, location, hashes, page_status, page)] = answers
    assert (status, location, hashes, page_status) == (302, "/password/forgot/sent/", 0, 200)
    assert b"If what you typed matches a Mitel user" in page
    assert sorted(m.to[0] for m in mailoutbox) == [
        ALICE, ALICE, "frank@initech.example", "mallory@acme.example"]


@pytest.mark.django_db
def test_forgot_password_answers_the_same_when_the_mail_server_fails(client, alice, settings, caplog):
    expected = ask_for_reset(Client(), "nobody@acme.example")
    settings.MAILERS = {"default": {"BACKEND": "tests.accounts.password_helpers.BrokenMailBackend"}}
    response = ask_for_reset(client, ALICE)
    assert (response.status_code, response["Location"]) == (expected.status_code, expected["Location"])
    assert "Could not send the password_reset e-mail" in caplog.text
    assert AuditEvent.objects.filter(user=alice, kind=AuditEvent.Kind.PASSWORD_RESET_REQUESTED).exists()


@pytest.mark.django_db
def test_requests_for_unknown_addresses_are_recorded_without_a_user(client, db):
    ask_for_reset(client, "Nobody@Acme.example")
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.PASSWORD_RESET_REQUESTED)
    assert (event.user, event.username, event.detail["matched"]) == (None, "nobody@acme.example", False)


@pytest.mark.parametrize("typed", ["", "   ", "a" * 255, "alice\x00@acme.example"])
@pytest.mark.django_db
def test_unusable_input_is_explained_on_the_form(client, typed):
    response = ask_for_reset(client, typed)
    assert response.status_code == 200
    assert 'aria-invalid="true"' in response.content.decode()


# --- The e-mail -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_e_mail_holds_a_single_use_expiring_link_in_text_and_html(client, alice, mailoutbox):
    ask_for_reset(client, ALICE)
    [mail] = mailoutbox
    assert mail.to == [ALICE] and mail.subject == "Reset your Mitel password"
    link = link_in(mail)
    assert "The link works once, for 60 minutes." in mail.body
    [(html, mimetype)] = mail.alternatives
    assert mimetype == "text/html" and f'href="http://testserver{link}"' in html
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.PASSWORD_RESET_REQUESTED)
    assert event.user == alice and event.detail["matched"] is True


@pytest.mark.django_db
def test_the_username_works_as_well_as_the_address(client, mailoutbox):
    user = UserFactory(username="jdoe@corp.example", email="john.doe@mail.example")
    ask_for_reset(client, "JDoe@Corp.example")
    assert [m.to for m in mailoutbox] == [[user.email]]


@pytest.mark.django_db
def test_single_sign_on_users_are_told_to_reset_at_their_identity_provider(client, frank, mailoutbox):
    ask_for_reset(client, "frank@initech.example")
    [mail] = mailoutbox
    assert mail.subject == "Your Mitel password is managed by your company"
    assert "Initech: Okta" in mail.body and "IT help desk" in mail.body
    assert "/password/reset/" not in mail.body + mail.alternatives[0][0]


@pytest.mark.django_db
def test_users_of_sso_accounts_that_allow_passwords_get_a_reset_link(client, mailoutbox):
    contoso = MitelAccountFactory(name="Contoso Ltd", entra=True, allow_password_sign_in=True)
    MembershipFactory(user__username="erin@contoso.example", account=contoso)
    ask_for_reset(client, "erin@contoso.example")
    assert RESET_PATH.search(mailoutbox[0].body)


@pytest.mark.django_db
def test_the_connect_portal_can_send_a_reset_to_a_given_user(alice, rf, mailoutbox):
    request = rf.post("/admin/")
    grace = MembershipFactory(account=alice.memberships.get().account, decision_maker=True).user
    assert send_password_reset(alice, request=request, acting_user=grace) == 1
    assert mailoutbox[0].to == [ALICE] and RESET_PATH.search(mailoutbox[0].body)
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.PASSWORD_RESET_REQUESTED)
    assert (event.user, event.actor) == (alice, grace)


# --- Look-alike addresses (SECURITY.md 3, CVE-2019-19844) ---------------------------------------


@pytest.mark.parametrize(
    ("stored", "typed", "mailed"),
    [
        ("mike@example.org", "MIKE@EXAMPLE.ORG", True),
        ("mike@example.org", "mıke@example.org", False),  # dotless ı: PostgreSQL's UPPER() makes it I
        ("mıke@example.org", "mike@example.org", False),
        ("mike@example.org", "ｍｉｋｅ@example.org", True),  # full-width: the same address after NFKC
        ("straße@example.org", "STRASSE@example.org", False),
    ],
)
@pytest.mark.django_db
def test_a_reset_goes_only_to_the_stored_address(client, mailoutbox, stored, typed, mailed):
    user = UserFactory(username=f"user-{stored}", email=stored)
    ask_for_reset(client, typed)
    assert all(m.to == [user.email] for m in mailoutbox)
    assert len(mailoutbox) == (1 if mailed else 0)


# --- The link (SECURITY.md 13) ------------------------------------------------------------------


@pytest.mark.django_db
def test_the_token_leaves_the_url_before_the_form_is_shown(client, alice_link):
    token = alice_link.rstrip("/").rsplit("/", 1)[1]
    response = client.get(alice_link)
    assert response["Location"].endswith("/set-password/") and token not in response["Location"]
    page = client.get(response["Location"]).content.decode()
    assert "Choose a new password" in page and token not in page
    assert 'name="new_password1"' in page and "password-rules" in page


@pytest.mark.django_db
def test_a_reset_link_works_once(client, alice_link):
    assert set_new_password(client, alice_link).status_code == 302
    assert shows_invalid_link(client.get(alice_link))
    assert shows_invalid_link(Client().get(alice_link))
    assert shows_invalid_link(client.post(alice_link.rsplit("/", 2)[0] + "/set-password/",
                                          new_password("another fine passphrase")))
    assert User.objects.get(username=ALICE).check_password(NEW_PASSWORD)


@pytest.mark.django_db
def test_a_reset_link_expires(client, alice, settings):
    past = timezone.now() - timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 1)
    assert shows_invalid_link(client.get(reset_link_path(alice, now=past)))
    nearly = timezone.now() - timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT - 60)
    assert client.get(reset_link_path(alice, now=nearly)).status_code == 302


@pytest.mark.parametrize(
    ("age_seconds", "valid"), [(0, True), (3599, True), (3601, False), (86400, False)])
@pytest.mark.django_db
def test_reset_tokens_live_for_the_configured_timeout(alice, age_seconds, valid):
    now = timezone.now()
    token = reset_link_path(alice, now=now).rstrip("/").rsplit("/", 1)[1]
    assert check_reset_token(alice, token, now=now + timedelta(seconds=age_seconds)) is valid


@pytest.mark.django_db
def test_a_reset_link_dies_after_another_password_change(client, alice, alice_link):
    change_password(alice, "an entirely different passphrase")
    assert shows_invalid_link(client.get(alice_link))


@pytest.mark.django_db
def test_an_opened_link_dies_if_the_password_changes_before_the_form_is_sent(client, alice, alice_link):
    form_url = client.get(alice_link)["Location"]
    change_password(alice, "an entirely different passphrase")
    assert shows_invalid_link(client.post(form_url, new_password()))
    assert User.objects.get(username=ALICE).check_password("an entirely different passphrase")


@pytest.mark.django_db
def test_a_reset_link_dies_when_the_e_mail_address_changes(client, alice_link):
    User.objects.filter(username=ALICE).update(email="alice.archer@acme.example")
    assert shows_invalid_link(client.get(alice_link))


@pytest.mark.parametrize("path", ["/password/reset/!!!/abc-def/", "/password/reset/MTIzNDU2Nzg5/x-y/",
                                  "/password/reset/MQ/set-password/", "/password/reset/Zm9v/1-2/"])
@pytest.mark.django_db
def test_broken_links_get_the_invalid_link_page(client, alice, path):
    assert shows_invalid_link(client.get(path))


@pytest.mark.django_db
def test_the_new_password_follows_the_rules(client, alice_link):
    response = set_new_password(client, alice_link, DEMO_PASSWORD)
    assert response.status_code == 200 and "can&#x27;t contain “mitel”" in response.content.decode()
    response = client.post(response.wsgi_request.path, new_password(NEW_PASSWORD, "different"))
    assert "The two new passwords are different" in response.content.decode()
    assert User.objects.get(username=ALICE).check_password(DEMO_PASSWORD)


# --- Completing a reset (SECURITY.md 10, 14) ----------------------------------------------------


@pytest.mark.django_db
def test_a_reset_unlocks_a_locked_out_user_and_records_it(client, mallory, mailoutbox,
                                                           django_capture_on_commit_callbacks):
    assert start_sign_in(Client(), mallory.username).status_code == 429
    ask_for_reset(client, mallory.username)
    link = link_in(mailoutbox[0])
    with django_capture_on_commit_callbacks(execute=True):
        set_new_password(client, link)
    assert start_sign_in(Client(), mallory.username, NEW_PASSWORD)["Location"] == "/signin/stay/"
    kinds = audit_kinds(mallory)
    assert kinds[kinds.index(AuditEvent.Kind.PASSWORD_RESET_REQUESTED):][:3] == [
        AuditEvent.Kind.PASSWORD_RESET_REQUESTED, AuditEvent.Kind.PASSWORD_RESET, AuditEvent.Kind.UNLOCKED]
    assert AuditEvent.objects.get(kind=AuditEvent.Kind.UNLOCKED).detail == {"via": "password_reset"}
    assert mailoutbox[-1].subject == "Your Mitel password was reset"
    assert mailoutbox[-1].to == [mallory.email]


@pytest.mark.django_db
def test_a_reset_ends_the_users_sessions(client, alice, mailoutbox):
    laptop = Client()
    laptop.force_login(alice)
    ask_for_reset(client, ALICE)
    set_new_password(client, link_in(mailoutbox[0]))
    assert not is_signed_in(laptop)


@pytest.mark.django_db
def test_signing_in_kills_the_links_sent_before(client, alice, alice_link):
    Client().force_login(alice)  # last_login is part of the token
    assert shows_invalid_link(client.get(alice_link))


@pytest.mark.django_db
def test_a_reset_without_a_sign_in_in_progress_leads_to_sign_in_not_into_the_app(client, alice_link):
    response = set_new_password(client, alice_link)
    assert response["Location"] == "/signin/?login_hint=alice%40acme.example"
    assert not is_signed_in(client)
    page = client.get(response["Location"]).content.decode()
    assert "Your password has been changed. Sign in with your new password." in page
    assert 'value="alice@acme.example"' in page


@pytest.mark.django_db
def test_a_reset_continues_the_sign_in_where_it_was(client, alice, mailoutbox):
    client.get("/signin/")
    client.post("/signin/", {"username": ALICE, "flow": ""})
    assert client.get("/password/forgot/").context["form"]["login"].value() == ALICE
    ask_for_reset(client, ALICE)
    response = set_new_password(client, link_in(mailoutbox[0]))
    assert response["Location"] == "/signin/authenticate/"
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Your password has been changed. Sign in with your new password."]
    assert not is_signed_in(client)
    assert post_step(client, "authenticate", password=DEMO_PASSWORD).status_code == 200  # old one: no
    assert post_step(client, "authenticate", password=NEW_PASSWORD)["Location"] == "/signin/stay/"


@pytest.mark.django_db
def test_a_reset_never_signs_in_nor_keeps_what_the_sign_in_had_proven(client, mailoutbox):
    """SECURITY.md 14: a sign-in past its password (and a verified code) starts again at the password."""
    MembershipFactory(user__username="carol@acme.example", user__password=DEMO_PASSWORD,
                      user__password_changed_at=timezone.now() - timedelta(days=100),
                      account__password_max_age_days=90)  # expired
    assert start_sign_in(client, "carol@acme.example")["Location"] == "/signin/expiry/"
    session = client.session
    session["signin_flow"]["mfa_device"] = "otp_totp.totpdevice/1"  # as if a code had been verified
    session.save()
    ask_for_reset(client, "carol@acme.example")
    response = set_new_password(client, link_in(mailoutbox[0]))
    assert response["Location"] == "/signin/authenticate/"
    flow = client.session["signin_flow"]
    assert (flow["authenticated"], flow["method"], flow["mfa_device"]) == (False, "", "")
    assert flow["done"] == ["username"]
    assert not is_signed_in(client)
    assert client.get("/signin/stay/")["Location"] == "/signin/authenticate/"


@pytest.mark.django_db
def test_a_reset_for_someone_else_does_not_continue_their_sign_in(client, alice, mailoutbox):
    acme_member("dave@acme.example")
    start_sign_in(client, "dave@acme.example")
    ask_for_reset(client, ALICE)
    response = set_new_password(client, link_in(mailoutbox[0]))
    assert response["Location"].startswith("/signin/?login_hint=alice")
    assert not is_signed_in(client)


@pytest.mark.django_db
def test_the_forgot_page_leads_back_to_the_sign_in_in_progress(client, alice):
    assert 'href="/signin/"' in client.get("/password/forgot/").content.decode()
    client.get("/signin/")
    client.post("/signin/", {"username": ALICE, "flow": ""})
    assert 'href="/signin/authenticate/">Back to sign in' in client.get("/password/forgot/").content.decode()


@pytest.mark.django_db
def test_a_new_user_without_a_password_yet_gets_a_link_to_set_one(client, mailoutbox):
    user = User.objects.create_user("new@acme.example", None, email="new@acme.example")
    MembershipFactory(user=user, account=MitelAccountFactory())
    ask_for_reset(client, user.username)
    assert RESET_PATH.search(mailoutbox[0].body)
