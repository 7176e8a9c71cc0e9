"""Password expiry: the policy, the sign-in step (docs/design.md 3.5) and long sessions (SECURITY.md 16)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client, RequestFactory
from django.utils import timezone

from accounts.models import AuditEvent, MitelAccount, User
from accounts.services.passwords import (
    PasswordPolicy,
    expiry_of,
    password_expiry,
    password_policy,
    strictest_policy,
)
from signin.flow import FlowState, SigninFlow
from signin.steps.expiry import ExpiryStep
from tests.factories import PASSWORD, MembershipFactory, MitelAccountFactory, UserFactory

from .password_helpers import (
    DEMO_PASSWORD,
    NEW_PASSWORD,
    audit_kinds,
    is_signed_in,
    new_password,
    post_step,
    sign_in,
    start_sign_in,
)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
CAROL, DAVE, ALICE = "carol@acme.example", "dave@acme.example", "alice@acme.example"


def with_password_changed_at(user: User, when: datetime) -> User:
    User.objects.filter(pk=user.pk).update(password_changed_at=when)
    user.refresh_from_db()
    return user


def account(max_age: int, warning: int = 14) -> MitelAccount:
    return MitelAccount(password_max_age_days=max_age, password_warning_days=warning)


# --- The rules, as tables -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accounts", "policy"),
    [
        ([], PasswordPolicy(0, 0)),
        ([account(0)], PasswordPolicy(0, 0)),
        ([account(90, 14)], PasswordPolicy(90, 14)),
        ([account(0), account(90, 14)], PasswordPolicy(90, 14)),  # 0 (never) is not the strictest
        ([account(90, 14), account(30, 7)], PasswordPolicy(30, 14)),  # shortest age, earliest warning
        ([account(180, 30), account(60, 5), account(0, 60)], PasswordPolicy(60, 30)),
        ([account(10, 30)], PasswordPolicy(10, 10)),  # never warned for longer than the age
    ],
)
def test_a_user_in_several_accounts_gets_the_strictest_policy(accounts, policy):
    assert strictest_policy(accounts) == policy


@pytest.mark.parametrize(
    ("changed_days_ago", "policy", "expired", "warn", "days_left"),
    [
        (1000, PasswordPolicy(0, 14), False, False, None),  # 0: never expires
        (0, PasswordPolicy(90, 14), False, False, 90),
        (75, PasswordPolicy(90, 14), False, False, 15),
        (76, PasswordPolicy(90, 14), False, True, 14),  # the first day of the warning window
        (87, PasswordPolicy(90, 14), False, True, 3),
        (86.9, PasswordPolicy(90, 14), False, True, 3),  # 3.1 days left: "in 3 days"
        (89.5, PasswordPolicy(90, 14), False, True, 0),  # hours left: "within a day"
        (90, PasswordPolicy(90, 14), True, False, 0),  # expires at the exact moment
        (100, PasswordPolicy(90, 14), True, False, 0),
        (29, PasswordPolicy(30, 0), False, False, 1),  # no warning window at all
    ],
)
def test_expiry_follows_the_policy_at_a_given_time(changed_days_ago, policy, expired, warn, days_left):
    expiry = expiry_of(NOW - timedelta(days=changed_days_ago), policy, now=NOW)
    assert (expiry.expired, expiry.warn, expiry.days_left) == (expired, warn, days_left)
    assert expiry.due == (expired or warn)


@pytest.mark.django_db
def test_the_policy_comes_from_the_users_accounts():
    user = with_password_changed_at(UserFactory(), NOW - timedelta(days=40))
    MembershipFactory(user=user, account=MitelAccountFactory(password_max_age_days=90))
    MembershipFactory(user=user, account=MitelAccountFactory(password_max_age_days=45,
                                                             password_warning_days=7))
    MembershipFactory(account=MitelAccountFactory(password_max_age_days=1))  # someone else's
    assert password_policy(user) == PasswordPolicy(45, 14)
    expiry = password_expiry(user, now=NOW)
    assert (expiry.expired, expiry.warn, expiry.days_left) == (False, True, 5)
    assert password_expiry(user, now=NOW + timedelta(days=5)).expired


@pytest.mark.django_db
def test_passwords_of_single_sign_on_users_never_expire():
    user = with_password_changed_at(User.objects.create_user("sso@initech.example", None),
                                    NOW - timedelta(days=999))
    MembershipFactory(user=user, account=MitelAccountFactory(password_max_age_days=30))
    assert not password_expiry(user, now=NOW).due


@pytest.mark.django_db
def test_the_expiry_step_applies_to_password_sign_ins_only(demo):
    carol = demo[CAROL]
    request = RequestFactory().get("/")

    def flow(method):
        return SigninFlow(request, FlowState(username=CAROL, user_id=carol.pk, authenticated=True,
                                             method=method, done=["username", "password"]))

    assert ExpiryStep().applies(flow("password"))
    assert not ExpiryStep().applies(flow("azure_ad"))
    assert not ExpiryStep().applies(flow("okta"))


# --- The sign-in step with the demo users -------------------------------------------------------


@pytest.mark.django_db
def test_carol_must_change_her_expired_password_before_the_app_opens(client, demo, mailoutbox,
                                                                    django_capture_on_commit_callbacks):
    response = start_sign_in(client, CAROL)
    assert response["Location"] == "/signin/expiry/"
    page = client.get("/signin/expiry/").content.decode()
    assert "Your password has expired" in page and 'name="new_password1"' in page
    assert "Later" not in page

    with django_capture_on_commit_callbacks(execute=True):
        response = post_step(client, "expiry", action="change", **new_password())
    assert response["Location"] == "/signin/stay/"
    assert not is_signed_in(client)  # not yet: "Stay signed in?" is still to come
    response = post_step(client, "stay", stay="no")
    assert response["Location"] == "/me/" and is_signed_in(client)

    carol = User.objects.get(username=CAROL)
    assert carol.check_password(NEW_PASSWORD)
    assert not password_expiry(carol).due
    event = AuditEvent.objects.get(user=carol, kind=AuditEvent.Kind.PASSWORD_CHANGED)
    assert event.detail["reason"] == "expired" and event.actor == carol
    assert [m.subject for m in mailoutbox] == ["Your Mitel password was changed"]


@pytest.mark.django_db
def test_while_the_password_is_expired_no_other_page_opens(client, demo):
    start_sign_in(client, CAROL)
    for path in ["/signin/stay/", "/signin/authenticate/", "/signin/account/"]:
        assert client.get(path)["Location"] == "/signin/expiry/"
    assert client.get("/password/change/")["Location"].startswith("/signin/?next=")
    assert client.get("/admin/")["Location"].startswith("/admin/login/")
    # "Later" is not offered, and posting it anyway changes nothing.
    response = post_step(client, "expiry", action="later")
    assert response.status_code == 200 and "Enter your new password." in response.content.decode()
    assert client.get("/signin/stay/")["Location"] == "/signin/expiry/"
    assert not is_signed_in(client)


@pytest.mark.parametrize(
    ("password", "again", "message"),
    [
        ("short", "short", "it needs at least 15"),
        (DEMO_PASSWORD, DEMO_PASSWORD, "can&#x27;t contain “mitel”"),
        ("carol's purple otters", "carol's purple otters", "your username or e-mail address"),
        ("Password12345678!", "Password12345678!", "too easy to guess"),
        (NEW_PASSWORD, NEW_PASSWORD + "!", "The two new passwords are different"),
    ],
)
@pytest.mark.django_db
def test_an_expired_password_is_not_replaced_by_one_that_breaks_the_rules(client, demo, password, again,
                                                                          message):
    start_sign_in(client, CAROL)
    response = post_step(client, "expiry", action="change", **new_password(password, again))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()
    assert User.objects.get(username=CAROL).check_password(DEMO_PASSWORD)


@pytest.mark.django_db
def test_an_expired_password_cannot_be_set_again(client):
    account = MitelAccountFactory(password_max_age_days=30)
    user = with_password_changed_at(UserFactory(), timezone.now() - timedelta(days=31))
    MembershipFactory(user=user, account=account)
    start_sign_in(client, user.username, PASSWORD)
    response = post_step(client, "expiry", action="change", **new_password(PASSWORD))
    assert "must be different from your current one" in response.content.decode()


@pytest.mark.django_db
def test_dave_is_warned_and_may_change_later(client, demo):
    response = start_sign_in(client, DAVE)
    assert response["Location"] == "/signin/expiry/"
    page = client.get("/signin/expiry/").content.decode()
    assert "Your password will expire in 3 days" in page
    assert "Change now" in page and "Later" in page
    assert 'name="new_password1"' not in page
    assert post_step(client, "expiry", action="later")["Location"] == "/signin/stay/"
    post_step(client, "stay", stay="yes")
    assert is_signed_in(client)
    assert User.objects.get(username=DAVE).check_password(DEMO_PASSWORD)


@pytest.mark.django_db
def test_dave_may_change_now(client, demo, mailoutbox, django_capture_on_commit_callbacks):
    start_sign_in(client, DAVE)
    page = client.get("/signin/expiry/?change=now").content.decode()
    assert 'name="new_password1"' in page and "Later" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = post_step(client, "expiry", action="change", **new_password())
    assert response["Location"] == "/signin/stay/"
    assert User.objects.get(username=DAVE).check_password(NEW_PASSWORD)
    assert AuditEvent.objects.get(kind=AuditEvent.Kind.PASSWORD_CHANGED).detail["reason"] == "expiring"
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_alice_whose_password_is_fresh_sees_no_expiry_step(client, demo):
    assert start_sign_in(client, ALICE)["Location"] == "/signin/stay/"


@pytest.mark.django_db
def test_unknown_usernames_never_reach_the_expiry_step(client, demo):
    response = start_sign_in(client, "nobody@acme.example")
    assert response.status_code == 200
    assert client.get("/signin/expiry/")["Location"] == "/signin/authenticate/"


# --- A password that expires during a session (SECURITY.md 16) ---------------------------------


def expire_now(username: str) -> None:
    User.objects.filter(username=username).update(password_changed_at=timezone.now() - timedelta(days=365))


@pytest.mark.django_db
def test_an_expired_password_blocks_every_page_but_the_change_form(client, demo):
    sign_in(client, ALICE)
    expire_now(ALICE)
    for path in ["/", "/me/", "/admin/", "/signin/", "/password/forgot/", "/signin/stay/"]:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/password/change/?next="), path
    assert client.post("/admin/")["Location"] == "/password/change/"
    page = client.get("/password/change/").content.decode()
    assert "Your password has expired. Choose a new one to continue." in page
    assert client.get("/healthz").status_code == 200
    assert client.get("/static/css/missing.css").status_code == 404  # static files are not redirected


@pytest.mark.django_db
def test_changing_the_expired_password_opens_the_pages_again(client, demo):
    sign_in(client, ALICE)
    expire_now(ALICE)
    response = client.post("/password/change/", {"current_password": DEMO_PASSWORD,
                                                 "next": "/admin/", **new_password()})
    assert response["Location"] == "/admin/"
    assert client.get("/")["Location"] == "/me/"


@pytest.mark.django_db
def test_signing_out_stays_possible_with_an_expired_password(client, demo):
    sign_in(client, ALICE)
    expire_now(ALICE)
    assert client.post("/signout/")["Location"] == "/signin/"
    assert not is_signed_in(client)


@pytest.mark.django_db
def test_sessions_that_signed_in_with_single_sign_on_are_not_sent_to_the_change_form(client, demo):
    sign_in(client, ALICE)
    assert client.session["signin_method"] == "password"
    session = client.session
    session["signin_method"] = "azure_ad"
    session.save()
    expire_now(ALICE)
    assert client.get("/")["Location"] == "/me/"


@pytest.mark.django_db
def test_only_the_user_whose_password_expired_is_stopped(client, demo):
    sign_in(client, ALICE)
    carol = Client()
    start_sign_in(carol, CAROL)
    post_step(carol, "expiry", action="change", **new_password())
    post_step(carol, "stay", stay="yes")
    expire_now(CAROL)
    assert client.get("/")["Location"] == "/me/"
    assert carol.get("/")["Location"].startswith("/password/change/")
    assert audit_kinds(demo[ALICE]) == [AuditEvent.Kind.SIGN_IN]
