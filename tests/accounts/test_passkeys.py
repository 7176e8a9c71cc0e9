"""Passkeys (WebAuthn): added on /me/passkeys/, used to sign in alone or in place of a code.

SECURITY.md 49: user verification required, a passkey of one user never accepted for another,
failed attempts count towards the lockout. The browser's part is played by a software
authenticator with real keys (tests/passkey_authenticator.py); tests/browser/test_passkeys.py walks
the same journeys in Chromium with its virtual authenticator.
"""

import html
import json
import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp_webauthn.models import WebAuthnCredential

from accounts.models import AuditEvent, LockoutCounter, Membership, MitelAccount
from accounts.services import lockouts
from accounts.services.mfa import reset_mfa
from tests.accounts.mfa_helpers import (
    ALICE,
    TRENT,
    enter_code,
    sign_in_with_password,
    signed_in_user,
    trents_device,
)
from tests.factories import MembershipFactory, UserFactory
from tests.passkey_authenticator import (
    SoftwareAuthenticator,
    add_passkey,
    b64,
    passkey_instead_of_code,
    passkey_sign_in,
    post_json,
)
from tests.signin import DEMO_PASSWORD, enter_password, enter_username, open_portal_as, post_step, start

pytestmark = pytest.mark.usefixtures("demo")
BOB = "bob@multi.example"
DAVE = "dave@acme.example"


def with_passkey(client, user, *, name: str = "My laptop", otp_device=None) -> SoftwareAuthenticator:
    """``user`` adds a passkey on /me/passkeys/ (then signs out): the authenticator holding it."""
    authenticator = SoftwareAuthenticator()
    open_portal_as(client, user, otp_device=otp_device)
    response = add_passkey(client, authenticator, name=name)
    assert response.status_code == 200, response.content
    assert "was added" in page(client.get("/me/passkeys/"))  # where the page goes next
    client.post("/signout/")
    return authenticator


def page(response) -> str:
    return response.content.decode()


# --- adding, listing, renaming, removing -----------------------------------------------------------

def test_alice_adds_a_named_passkey_and_personal_information_lists_it(
        client, demo, mailoutbox, django_capture_on_commit_callbacks):
    alice = demo[ALICE]
    open_portal_as(client, alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = add_passkey(client, SoftwareAuthenticator(), name="Work laptop")
    assert response.status_code == 200
    passkey = WebAuthnCredential.objects.get(user=alice)
    assert (passkey.name, passkey.confirmed, passkey.discoverable) == ("Work laptop", True, True)
    # The session that made it is verified with it: /me/ stays open to it.
    assert client.session[DEVICE_ID_SESSION_KEY] == passkey.persistent_id
    me = page(client.get("/me/"))
    assert "Work laptop" in me and "Not yet" in me  # named, when added, never used yet
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.MFA_ENROLLED, user=alice)
    assert (event.method, event.detail["name"]) == ("passkey", "Work laptop")
    [mail] = mailoutbox
    assert mail.to == [alice.email] and mail.subject == "Your Mitel sign-in: a passkey was added"


def test_adding_a_passkey_needs_the_password_again_and_wrong_ones_count(client, demo):
    open_portal_as(client, demo[ALICE])
    assert post_json(client, "/me/passkeys/add/begin/").status_code == 403  # no password yet
    response = client.post("/me/passkeys/add/", {"name": "Phone", "password": "not my password"})
    assert response.status_code == 200 and "That password is not right." in page(response)
    assert LockoutCounter.objects.get(scope="username", key=ALICE).failures == 1
    assert post_json(client, "/me/passkeys/add/begin/").status_code == 403


def test_a_passkey_made_without_user_verification_is_refused(client, demo):
    open_portal_as(client, demo[ALICE])
    client.post("/me/passkeys/add/", {"name": "Key", "password": DEMO_PASSWORD})
    options = post_json(client, "/me/passkeys/add/begin/").json()
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["attestation"] == "none"
    answer = SoftwareAuthenticator().create(options, user_verified=False)
    response = post_json(client, "/me/passkeys/add/complete/", answer)
    assert response.status_code == 400
    assert not WebAuthnCredential.objects.filter(user=demo[ALICE]).exists()


def test_a_registration_answer_works_once(client, demo):
    open_portal_as(client, demo[ALICE])
    client.post("/me/passkeys/add/", {"name": "Key", "password": DEMO_PASSWORD})
    answer = SoftwareAuthenticator().create(post_json(client, "/me/passkeys/add/begin/").json())
    assert post_json(client, "/me/passkeys/add/complete/", answer).status_code == 200
    client.post("/me/passkeys/add/", {"name": "Key", "password": DEMO_PASSWORD})
    assert post_json(client, "/me/passkeys/add/complete/", answer).status_code == 400
    assert WebAuthnCredential.objects.filter(user=demo[ALICE]).count() == 1


def test_no_more_passkeys_than_the_setting_allows(client, demo, settings):
    settings.PASSKEYS_MAX_PER_USER = 2
    open_portal_as(client, demo[ALICE])
    authenticator = SoftwareAuthenticator()
    for name in ("One", "Two"):
        assert add_passkey(client, authenticator, name=name).status_code == 200
    response = client.post("/me/passkeys/add/", {"name": "Three", "password": DEMO_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/me/passkeys/"
    assert "the most you can have" in page(client.get("/me/passkeys/"))
    assert post_json(client, "/me/passkeys/add/begin/").status_code == 403
    assert WebAuthnCredential.objects.filter(user=demo[ALICE]).count() == 2


def test_the_passkey_pages_speak_the_persons_language(client, demo, settings):
    settings.PASSKEYS_MAX_PER_USER = 1
    open_portal_as(client, demo[ALICE])
    client.cookies["mitel_language"] = "nl"
    assert add_passkey(client, SoftwareAuthenticator(), name="Werk").status_code == 200
    listed = html.unescape(page(client.get("/me/passkeys/")))
    for dutch in ("Uw passkey „Werk” is toegevoegd.", "Laatst gebruikt", "Nog niet",
                  'aria-label="Werk hernoemen"',
                  "U hebt 1 passkey, het maximum. Verwijder die om een andere toe te voegen."):
        assert dutch in listed, dutch
    refused = html.unescape(page(client.get("/me/passkeys/add/", follow=True)))
    assert "U hebt 1 passkey, het maximum. Verwijder die om een andere toe te voegen." in refused
    assert "most you can have" not in refused and "Not yet" not in listed
    client.post("/signout/")
    username_screen = html.unescape(page(start(client)))
    assert "Aanmelden met een passkey" in username_screen and ">of</p>" in username_screen
    said = json.loads(re.search(r'id="otp_webauthn_config" type="application/json">([^<]*)<',
                                username_screen).group(1))["messages"]
    assert said["waiting"] == "Wachten op uw passkey…" and said["notChosen"] == "Er is geen passkey gekozen."


def test_renaming_a_passkey_is_audited_and_told(client, demo, mailoutbox,
                                               django_capture_on_commit_callbacks):
    with_passkey(client, demo[ALICE], name="Laptop")
    passkey = WebAuthnCredential.objects.get(user=demo[ALICE])
    open_portal_as(client, demo[ALICE], otp_device=passkey)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/me/passkeys/{passkey.pk}/rename/", {"name": "Old laptop"})
    assert response.status_code == 302
    passkey.refresh_from_db()
    assert passkey.name == "Old laptop"
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.MFA_CHANGED)
    assert (event.user, event.detail["name"], event.detail["was"]) == (demo[ALICE], "Old laptop", "Laptop")
    assert [m.subject for m in mailoutbox] == ["Your Mitel sign-in: a passkey was renamed"]


def test_removing_a_passkey_asks_for_the_password_again(client, demo, mailoutbox,
                                                       django_capture_on_commit_callbacks):
    with_passkey(client, demo[ALICE])
    passkey = WebAuthnCredential.objects.get(user=demo[ALICE])
    open_portal_as(client, demo[ALICE], otp_device=passkey)
    url = f"/me/passkeys/{passkey.pk}/remove/"
    asked = client.get(url)
    assert "enter your password again" in page(asked)
    assert page(client.post(url, {"password": "wrong password"})).count("That password is not right.")
    assert WebAuthnCredential.objects.filter(pk=passkey.pk).exists()
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"password": DEMO_PASSWORD})
    assert response.status_code == 302
    assert not WebAuthnCredential.objects.filter(pk=passkey.pk).exists()
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.MFA_REMOVED, method="passkey").exists()
    assert [m.subject for m in mailoutbox] == ["Your Mitel sign-in: a passkey was removed"]


def test_someone_elses_passkey_cannot_be_renamed_or_removed(client, demo):
    with_passkey(client, demo[ALICE])
    passkey = WebAuthnCredential.objects.get(user=demo[ALICE])
    open_portal_as(client, demo[BOB])
    assert client.post(f"/me/passkeys/{passkey.pk}/rename/", {"name": "Mine"}).status_code == 404
    assert client.post(f"/me/passkeys/{passkey.pk}/remove/",
                       {"password": DEMO_PASSWORD}).status_code == 404
    passkey.refresh_from_db()
    assert passkey.name == "My laptop"


def test_the_last_second_factor_stays_where_the_account_requires_mfa(client, demo):
    MitelAccount.objects.filter(name="Acme Dental").update(require_mfa=True)
    with_passkey(client, demo[ALICE])
    passkey = WebAuthnCredential.objects.get(user=demo[ALICE])
    open_portal_as(client, demo[ALICE], otp_device=passkey)
    response = client.post(f"/me/passkeys/{passkey.pk}/remove/", {"password": DEMO_PASSWORD},
                           follow=True)
    assert "your only second factor" in page(response)
    assert WebAuthnCredential.objects.filter(pk=passkey.pk).exists()


def test_supports_mfa_reset_removes_passkeys_too(client, demo):
    with_passkey(client, demo[TRENT], otp_device=trents_device())
    assert reset_mfa(demo[TRENT], acting_user=demo["support@mitel.example"]) == 2
    assert not WebAuthnCredential.objects.filter(user=demo[TRENT]).exists()
    event = AuditEvent.objects.filter(kind=AuditEvent.Kind.MFA_RESET).first()
    assert "WebAuthnCredential" in event.detail["kinds"]


# --- signing in with a passkey alone ---------------------------------------------------------------

def test_alice_signs_in_with_her_passkey_and_no_password(client, demo):
    authenticator = with_passkey(client, demo[ALICE])
    start(client, app="miteam-meetings")
    response = passkey_sign_in(client, authenticator, "?app=miteam-meetings")
    assert response.status_code == 200, response.content
    assert response.json()["redirect_url"] == "/signin/stay/"
    assert signed_in_user(client) is None  # nobody is logged in before the last step
    done = post_step(client, "stay", stay="yes")
    assert done["Location"].startswith("https://meetings.mitel.example/")
    passkey = WebAuthnCredential.objects.get(user=demo[ALICE])
    assert signed_in_user(client) == demo[ALICE]
    assert client.session[DEVICE_ID_SESSION_KEY] == passkey.persistent_id
    assert client.session["signin_method"] == "passkey"
    assert passkey.sign_count == 1 and passkey.last_used_at is not None
    event = AuditEvent.objects.filter(kind=AuditEvent.Kind.SIGN_IN).first()
    assert (event.user, event.method) == (demo[ALICE], "passkey")


def test_the_username_screens_passkey_option_is_the_same_for_every_username(client, demo):
    with_passkey(client, demo[ALICE])
    start(client)  # shows, once, "You have signed out." from setting the passkey up

    def passkey_part(hint: str) -> tuple[str, dict]:
        text = page(start(client, login_hint=hint))
        text = re.sub(r'"csrfToken": "[^"]*"', "", text)
        text = re.sub(r'name="(csrfmiddlewaretoken|flow)" value="[^"]*"', "", text)
        text = text.replace(hint, "HINT").replace(re.sub("@", "%40", hint), "HINT")
        options = post_json(client, "/signin/passkey/begin/").json()
        return text, {key: value for key, value in options.items() if key != "challenge"}

    alice, nobody = passkey_part(ALICE), passkey_part("nobody@acme.example")
    assert "Sign in with a passkey" in alice[0]
    assert alice == nobody
    assert alice[1].get("allowCredentials", []) == []  # no passkey of anyone's is listed
    assert alice[1]["userVerification"] == "required"


def test_a_passkey_sign_in_still_meets_the_account_picker(client, demo):
    authenticator = with_passkey(client, demo[BOB])
    start(client)
    response = passkey_sign_in(client, authenticator)
    assert response.json()["redirect_url"] == "/signin/account/"
    picked = post_step(client, "account", account="100002")
    assert picked["Location"] == "/signin/stay/"


def test_a_passkey_sign_in_still_meets_password_expiry(client, demo):
    authenticator = with_passkey(client, demo[DAVE])
    start(client)
    assert passkey_sign_in(client, authenticator).json()["redirect_url"] == "/signin/expiry/"
    assert "will expire in" in page(client.get("/signin/expiry/"))


def test_an_account_that_allows_sso_only_refuses_passkey_sign_in(client, demo):
    initech = MitelAccount.objects.get(name="Initech")
    sam = UserFactory(username="sam@initech.example", password=DEMO_PASSWORD)
    MembershipFactory(user=sam, account=initech)
    # Sam made a passkey while his account still took passwords; now it takes SSO only.
    acme = MitelAccount.objects.get(name="Acme Dental")
    Membership.objects.create(user=sam, account=acme)
    authenticator = with_passkey(client, sam)
    Membership.objects.filter(user=sam, account=acme).delete()
    assert not initech.password_allowed
    start(client)
    response = passkey_sign_in(client, authenticator)
    assert response.status_code == 403
    assert "signs in with Single Sign On only" in response.json()["detail"]
    assert signed_in_user(client) is None
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.SIGN_IN_FAILED, user=sam,
                                     method="passkey").exists()


def test_a_passkey_answer_without_user_verification_is_refused(client, demo):
    authenticator = with_passkey(client, demo[ALICE])
    start(client)
    response = passkey_sign_in(client, authenticator, user_verified=False)
    assert response.status_code == 403 and signed_in_user(client) is None
    assert client.session.get("signin_flow", {}).get("authenticated") is not True


def test_a_passkey_answer_works_once(client, demo):
    authenticator = with_passkey(client, demo[ALICE])
    start(client)
    options = post_json(client, "/signin/passkey/begin/").json()
    answer = authenticator.get(options)
    assert post_json(client, "/signin/passkey/complete/", answer).status_code == 200
    assert post_json(client, "/signin/passkey/complete/", answer).status_code == 403


def test_a_passkey_from_another_origin_is_refused(client, demo):
    authenticator = with_passkey(client, demo[ALICE])
    start(client)
    response = passkey_sign_in(client, authenticator, origin="https://mitel-signin.evil.example")
    assert response.status_code == 403 and signed_in_user(client) is None


def test_a_passkey_whose_user_handle_names_someone_else_is_refused(client, demo):
    alices = with_passkey(client, demo[ALICE])
    bobs = with_passkey(client, demo[BOB])
    start(client)
    response = passkey_sign_in(client, alices, user_handle=bobs.credentials[0].user_handle)
    assert response.status_code == 403 and signed_in_user(client) is None


def test_a_locked_out_username_cannot_sign_in_with_a_passkey(client, demo):
    authenticator = with_passkey(client, demo[ALICE])
    lockouts.lock_username(ALICE)
    start(client)
    response = passkey_sign_in(client, authenticator)
    assert response.status_code == 429 and "locked" in response.json()["detail"]
    assert signed_in_user(client) is None


def test_failed_passkey_sign_ins_count_towards_the_lockout(client, demo):
    authenticator = with_passkey(client, demo[ALICE])
    for _ in range(settings.LOCKOUT_FAILURE_LIMIT):
        start(client)
        response = passkey_sign_in(client, authenticator, user_verified=False)
    assert response.status_code == 429
    assert lockouts.is_locked(None, ALICE)
    start(client)
    assert passkey_sign_in(client, authenticator).status_code == 429  # even the right one now


# --- a passkey in place of a code ------------------------------------------------------------------

def test_trent_uses_his_passkey_instead_of_his_code(client, demo):
    authenticator = with_passkey(client, demo[TRENT], otp_device=trents_device())
    response = sign_in_with_password(client, TRENT)
    assert response["Location"] == "/signin/code/"
    mfa_page = page(client.get("/signin/code/"))
    assert mfa_page.index("Use your passkey") < mfa_page.index('name="code"')  # the passkey first
    answer = passkey_instead_of_code(client, authenticator)
    assert answer.status_code == 200 and answer.json()["redirect_url"] == "/signin/stay/"
    post_step(client, "stay", stay="no")
    passkey = WebAuthnCredential.objects.get(user=demo[TRENT])
    assert signed_in_user(client) == demo[TRENT]
    assert client.session[DEVICE_ID_SESSION_KEY] == passkey.persistent_id
    assert client.session["signin_method"] == "password"


def test_an_account_that_requires_mfa_takes_a_passkey_in_place_of_a_code(client, demo):
    MitelAccount.objects.filter(name="Acme Dental").update(require_mfa=True)
    authenticator = with_passkey(client, demo[ALICE])
    response = sign_in_with_password(client, ALICE)
    assert response["Location"] == "/signin/code/"  # no authenticator app asked for
    mfa_page = page(client.get("/signin/code/"))
    assert "Use your passkey" in mfa_page and 'name="code"' not in mfa_page
    assert passkey_instead_of_code(client, authenticator).json()["redirect_url"] == "/signin/stay/"


def test_alices_passkey_offered_for_bob_is_refused_and_counted(client, demo):
    alices = with_passkey(client, demo[ALICE])
    bobs = with_passkey(client, demo[BOB])
    enter_username(client, BOB)
    post_step(client, "account", account="100001")
    assert enter_password(client, DEMO_PASSWORD)["Location"] == "/signin/code/"
    options = post_json(client, "/signin/code/passkey/begin/").json()
    allowed = [c["id"] for c in options["allowCredentials"]]
    assert allowed == [b64(bobs.credentials[0].id)]  # only bob's own
    response = post_json(client, "/signin/code/passkey/complete/",
                         alices.get(options, credential=alices.credentials[0]))
    assert response.status_code == 403
    assert client.get("/signin/stay/")["Location"] == "/signin/code/"  # still at the MFA step
    assert LockoutCounter.objects.get(scope="username", key=BOB).failures == 1
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.MFA_FAILED)
    assert (event.user, event.method) == (demo[BOB], "passkey")
    assert passkey_instead_of_code(client, bobs).status_code == 200  # his own still works


def test_wrong_passkeys_at_the_mfa_step_end_in_the_lockout(client, demo):
    alices = with_passkey(client, demo[ALICE])
    with_passkey(client, demo[TRENT], otp_device=trents_device())
    sign_in_with_password(client, TRENT)
    for _ in range(settings.LOCKOUT_FAILURE_LIMIT):
        response = passkey_instead_of_code(client, alices, credential=alices.credentials[0])
    assert response.status_code == 429
    assert lockouts.is_locked(None, TRENT)
    assert enter_code(client, "123456").status_code == 429


def test_the_mfa_steps_passkey_views_refuse_a_flow_that_is_not_there(client, demo):
    start(client)
    assert post_json(client, "/signin/code/passkey/begin/").status_code == 409
    assert post_json(client, "/signin/code/passkey/complete/").status_code == 409


def test_a_password_that_expires_during_a_passkey_session_must_be_changed(client, demo):
    authenticator = with_passkey(client, demo[ALICE])
    start(client)
    passkey_sign_in(client, authenticator)
    post_step(client, "stay", stay="no")
    MitelAccount.objects.filter(name="Acme Dental").update(password_max_age_days=30)
    type(demo[ALICE]).objects.filter(pk=demo[ALICE].pk).update(
        password_changed_at=timezone.now() - timedelta(days=31))
    response = client.get("/me/")
    assert response.status_code == 302 and response["Location"].startswith("/password/change/")


def test_a_challenge_asked_while_next_is_pressed_does_not_undo_the_flow(db, rf):
    """The username page's script asks for a challenge as the page opens; the person may press Next
    meanwhile. The challenge's save must keep what Next saved (it sent browsers back to the
    username page at random, and failed the browser tests under load)."""
    from accounts.services import passkeys
    from accounts.sessions import SessionStore

    stored = SessionStore()
    stored["flow"] = "at the username"
    stored.save()
    request = rf.post("/signin/passkey/begin/")
    request.session = SessionStore(stored.session_key)
    assert request.session["flow"] == "at the username"  # the challenge's request read it ...
    meanwhile = SessionStore(stored.session_key)
    meanwhile["flow"] = "at the password"
    meanwhile.save()  # ... then Next saved the flow's next step
    passkeys.begin_authentication(request)
    request.session.save()
    after = SessionStore(stored.session_key).load()
    assert after["flow"] == "at the password" and passkeys.AUTHENTICATION_STATE in after
