"""Sessions people can see and end, and a server-side life that follows "Stay signed in" (SECURITY.md 51).

Time moves by rewriting the stored session's own timestamps (and, to test the middleware alone,
its ``expire_date``), never by patching the clock.
"""

import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import session_life
from accounts.models import AuditEvent, Membership, MitelAccount, Role, UserSession
from accounts.services import memberships
from accounts.sessions import SessionStore
from tests.accounts.mfa_helpers import ALICE, TRENT, code_for, trents_device
from tests.signin import DEMO_PASSWORD, open_portal_as, sign_in

pytestmark = pytest.mark.usefixtures("demo")
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")


def browser(user_agent: str = FIREFOX, ip: str = "198.51.100.7") -> Client:
    return Client(HTTP_USER_AGENT=user_agent, REMOTE_ADDR=ip)


def signed_in(client: Client) -> bool:
    response = client.get("/me/")
    return response.status_code == 200


def age(client: Client, *, since_sign_in: int = 0, idle: int = 0, keep_row_alive: bool = False) -> None:
    """Move the session's sign-in back ``since_sign_in`` seconds and its last use back ``idle``.

    With ``keep_row_alive``, the stored row's expiry is then pushed 30 days out, so that only the
    middleware's own check can end the session: each layer is tested alone.
    """
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    session = SessionStore(key)
    now = int(time.time())
    session[session_life.STARTED] = now - since_sign_in
    session[session_life.SEEN] = now - idle
    session.save()
    if keep_row_alive:
        UserSession.objects.filter(session_key=key).update(
            expire_date=timezone.now() + timedelta(days=30))


def replay(client: Client) -> Client:
    """Another browser holding a copy of the cookie."""
    copy = browser()
    copy.cookies[settings.SESSION_COOKIE_NAME] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return copy


# --- the server-side life of "Stay signed in? No" ------------------------------------------------

def test_a_no_session_is_stored_for_the_short_life_only_and_its_cookie_ends_with_the_browser():
    client = browser()
    sign_in(client, ALICE, stay=False)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["max-age"] == ""
    row = UserSession.objects.get(session_key=cookie.value)
    assert row.expire_date <= timezone.now() + timedelta(seconds=settings.SESSION_SHORT_AGE)


def test_a_yes_session_is_stored_for_thirty_days():
    client = browser()
    sign_in(client, ALICE, stay=True)
    row = UserSession.objects.get(session_key=client.cookies[settings.SESSION_COOKIE_NAME].value)
    assert row.expire_date > timezone.now() + timedelta(days=29)


@pytest.mark.parametrize("keep_row_alive", [False, True], ids=["store", "middleware"])
def test_a_replayed_no_cookie_opens_nothing_after_the_short_life(keep_row_alive):
    client = browser()
    sign_in(client, ALICE, stay=False)
    age(client, since_sign_in=settings.SESSION_SHORT_AGE + 1, idle=60, keep_row_alive=keep_row_alive)
    thief = replay(client)
    response = thief.get("/me/")
    assert response.status_code == 302 and response["Location"].startswith("/signin/")
    assert "_auth_user_id" not in SessionStore(client.cookies[settings.SESSION_COOKIE_NAME].value)


@pytest.mark.parametrize("keep_row_alive", [False, True], ids=["store", "middleware"])
def test_a_no_session_left_idle_is_signed_out(keep_row_alive):
    client = browser()
    sign_in(client, ALICE, stay=False)
    age(client, since_sign_in=3600, idle=settings.SESSION_IDLE_TIMEOUT + 1,
        keep_row_alive=keep_row_alive)
    assert not signed_in(client)
    if keep_row_alive:
        event = AuditEvent.objects.filter(kind=AuditEvent.Kind.SIGN_OUT).latest("id")
        assert event.user.username == ALICE and event.detail == {"reason": "idle"}
        assert event.account.account_number == "100001"


def test_a_no_session_in_use_stays_signed_in():
    client = browser()
    sign_in(client, ALICE, stay=False)
    age(client, since_sign_in=settings.SESSION_SHORT_AGE - 120, idle=settings.SESSION_IDLE_TIMEOUT - 120)
    assert signed_in(client)


def test_a_yes_session_has_neither_the_short_life_nor_the_idle_timeout():
    client = browser()
    sign_in(client, ALICE, stay=True)
    age(client, since_sign_in=settings.SESSION_SHORT_AGE + 1, idle=settings.SESSION_IDLE_TIMEOUT + 1)
    assert signed_in(client)


def test_last_use_is_written_at_most_once_a_minute():
    client = browser()
    sign_in(client, ALICE, stay=True)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    client.get("/me/")
    first = UserSession.objects.get(session_key=key).session_data
    client.get("/me/")
    client.get("/me/")
    assert UserSession.objects.get(session_key=key).session_data == first  # no write
    age(client, idle=61)
    client.get("/me/")
    row = UserSession.objects.get(session_key=key)
    assert row.last_used_at > timezone.now() - timedelta(seconds=5)


# --- raising the bar ----------------------------------------------------------------------------

def set_up_mfa(client: Client) -> None:
    """The /me/mfa/ journey: password again, then the first code of the new authenticator."""
    assert client.post("/me/mfa/setup/", {"password": DEMO_PASSWORD}).status_code == 302
    pending = TOTPDevice.objects.get(user__username=ALICE, confirmed=False)
    response = client.post("/me/mfa/setup/confirm/", {"code": code_for(pending)})
    assert response.status_code == 200 and "Two-step verification is on" in response.content.decode()


def test_after_mfa_is_set_up_elsewhere_an_older_password_session_cannot_change_the_password():
    older, newer = browser(), browser(SAFARI)
    sign_in(older, ALICE)
    sign_in(newer, ALICE)
    set_up_mfa(newer)
    response = older.post("/password/change/", {
        "old_password": DEMO_PASSWORD, "new_password1": "a brand new passphrase for alice",
        "new_password2": "a brand new passphrase for alice"})
    assert response.status_code == 302 and response["Location"].startswith("/signin/")
    alice = Membership.objects.get(user__username=ALICE).user
    assert alice.check_password(DEMO_PASSWORD)
    assert signed_in(newer)  # the session that set it up stays, verified
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.MFA_ENROLLED)
    assert event.detail["sessions_ended"] == 1


def test_an_account_that_starts_to_require_mfa_signs_out_its_unverified_sessions(demo):
    alice, trent, grace = browser(), browser(), browser()
    open_portal_as(alice, demo[ALICE])
    open_portal_as(trent, demo[TRENT], otp_device=trents_device())
    open_portal_as(grace, demo["grace@acme.example"])
    session = grace.session
    session["signin_method"] = "azure_ad"  # an identity provider asked for its own second factor
    session.save()
    account = MitelAccount.objects.get(account_number="100001")
    account.require_mfa = True
    account.save()
    assert not signed_in(alice)
    assert signed_in(trent) and signed_in(grace)
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.SESSIONS_ENDED)
    assert (event.user.username, event.account, event.detail) == (
        ALICE, account, {"reason": "account_requires_mfa", "sessions_ended": 1})


def test_an_account_saved_again_with_mfa_required_ends_nothing_more(demo):
    account = MitelAccount.objects.get(account_number="100001")
    account.require_mfa = True
    account.save()
    alice = open_portal_as(browser(), demo[ALICE])
    account.name = "Acme renamed"
    account.save()
    assert signed_in(alice)


@pytest.mark.parametrize("before, after", [(set(), {Role.TECHNICAL_CONTACT}),
                                           ({Role.TECHNICAL_CONTACT}, set())],
                         ids=["role gained", "role lost"])
def test_a_role_gained_or_lost_signs_the_user_out_everywhere(demo, before, after):
    membership = Membership.objects.get(user__username=ALICE)
    memberships.change_roles(membership, frozenset(before), acting_user=demo["grace@acme.example"])
    alice = open_portal_as(browser(), demo[ALICE])
    memberships.change_roles(membership, frozenset(after), acting_user=demo["grace@acme.example"])
    assert not signed_in(alice)


# --- /me/sessions/ ------------------------------------------------------------------------------

def test_me_lists_the_persons_sessions_with_device_address_and_this_session():
    laptop, phone = browser(FIREFOX, "198.51.100.7"), browser(SAFARI, "203.0.113.9")
    sign_in(laptop, ALICE)
    sign_in(phone, ALICE)
    page = laptop.get("/me/sessions/").content.decode()
    assert "Firefox on Windows" in page and "(this session)" in page
    assert "Safari on iPhone" in page and "203.0.113.9" in page
    assert page.count('name="session"') == 1  # a button for the other session only
    for key in UserSession.objects.values_list("session_key", flat=True):
        assert key not in page  # a session key is a credential: never shown


def test_signing_out_another_session_ends_it_and_audits_it():
    laptop, phone = browser(FIREFOX), browser(SAFARI)
    sign_in(laptop, ALICE)
    sign_in(phone, ALICE)
    phone_key = phone.cookies[settings.SESSION_COOKIE_NAME].value
    response = laptop.post("/me/sessions/", {"session": session_life.handle(phone_key)})
    assert response.status_code == 302
    assert not signed_in(phone) and signed_in(laptop)
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.SESSIONS_ENDED)
    assert event.detail == {"reason": "signed_out_one", "sessions_ended": 1}
    assert event.account.account_number == "100001"


def test_one_cannot_sign_out_someone_elses_session(demo):
    alice, grace = browser(), browser()
    sign_in(alice, ALICE)
    sign_in(grace, "grace@acme.example")
    grace_key = grace.cookies[settings.SESSION_COOKIE_NAME].value
    alice.post("/me/sessions/", {"session": session_life.handle(grace_key)})
    assert signed_in(grace)


def test_sign_out_everywhere_ends_every_session_and_audits_it():
    laptop, phone = browser(FIREFOX), browser(SAFARI)
    sign_in(laptop, ALICE)
    sign_in(phone, ALICE)
    response = laptop.post("/me/sessions/", {"everywhere": "1"})
    assert response.status_code == 302 and response["Location"] == "/signin/"
    assert not signed_in(phone) and not signed_in(laptop)
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.SESSIONS_ENDED)
    assert event.detail == {"reason": "signed_out_everywhere", "sessions_ended": 2}


def test_sign_out_everywhere_needs_the_csrf_token(demo):
    laptop = Client(enforce_csrf_checks=True)
    open_portal_as(laptop, demo[ALICE])
    assert laptop.post("/me/sessions/", {"everywhere": "1"}).status_code == 403
    assert signed_in(laptop)


@pytest.mark.parametrize("agent, shown", [
    (FIREFOX, "Firefox on Windows"),
    (SAFARI, "Safari on iPhone"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/126.0 Safari/537.36 Edg/126.0", "Edge on macOS"),
    ("Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile "
     "Safari/537.36", "Chrome on Android"),
    ("curl/8.5", "Unknown device"),
    ("", "Unknown device"),
])
def test_devices_are_named_by_browser_and_system(agent, shown):
    assert session_life.device(agent) == shown
