"""What the password services leave behind: the audit trail support reads, the limits on
forgot-password mail, the e-mails' wording, and who may send what (SECURITY.md 42, 52)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.template import TemplateSyntaxError
from django.test import Client
from django.utils import timezone

from accounts.models import AuditEvent, MitelAccount, User
from accounts.services.passwords import (
    PasswordPolicy,
    change_password,
    complete_password_reset,
    expiry_of,
    identity_provider_accounts,
    password_expiry,
    password_policy,
    send_password_reset,
    send_requested_password_reset,
    strictest_policy,
)
from tests.factories import LockoutFactory, MembershipFactory, MitelAccountFactory, UserFactory

from .password_helpers import DEMO_PASSWORD, NEW_PASSWORD, new_password, sign_in, start_sign_in

pytestmark = pytest.mark.django_db

ALICE = "alice@acme.example"
SENT = "/password/forgot/sent/"
WHEN = datetime(2026, 3, 14, 15, 9, tzinfo=UTC)
REQUESTED = AuditEvent.Kind.PASSWORD_RESET_REQUESTED


def member(username: str = ALICE, **user) -> User:
    return MembershipFactory(user__username=username, user__password=DEMO_PASSWORD,
                             **{f"user__{key}": value for key, value in user.items()}).user


def ask_for_reset(login: str, *, address: str = "192.0.2.10", **headers):
    return Client(REMOTE_ADDR=address, **headers).post("/password/forgot/", {"login": login})


def requests_recorded() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(kind=REQUESTED).order_by("id"))


def age_events(minutes: float) -> None:
    """As if every event so far had been recorded ``minutes`` earlier."""
    AuditEvent.objects.update(created_at=F("created_at") - timedelta(minutes=minutes))


def portal_request(rf, **meta):
    return rf.post("/admin/", REMOTE_ADDR="198.51.100.9", HTTP_USER_AGENT="Firefox/140", **meta)


def two_accounts_one_contact():
    """A user in Acme and Globex, and a contact who manages users in Acme only."""
    acme, globex = MitelAccountFactory(name="Acme"), MitelAccountFactory(name="Globex")
    user = MembershipFactory(account=acme, user__username="pat@acme.example").user
    MembershipFactory(account=globex, user=user)
    grace = MembershipFactory(account=acme, decision_maker=True).user
    return user, acme, globex, grace


# --- The expiry policy --------------------------------------------------------------------------


def test_a_one_day_maximum_age_is_a_policy_too():
    assert strictest_policy([MitelAccount(password_max_age_days=1, password_warning_days=0)]) == \
        PasswordPolicy(1, 0)


def test_a_one_day_maximum_age_stored_for_an_account_applies_to_its_members():
    user = UserFactory()
    MembershipFactory(user=user, account=MitelAccountFactory(password_max_age_days=1,
                                                             password_warning_days=0))
    assert password_policy(user) == PasswordPolicy(1, 0)
    assert password_expiry(user, now=timezone.now() + timedelta(days=2)).expired


def test_the_policy_costs_one_query_whatever_the_number_of_accounts(django_assert_num_queries):
    """Every request of a signed-in user asks whether the password expired (the middleware)."""
    user = UserFactory()
    for age in (90, 45, 0):
        MembershipFactory(user=user, account=MitelAccountFactory(password_max_age_days=age))
    with django_assert_num_queries(1):
        assert password_policy(user) == PasswordPolicy(45, 14)


def test_accounts_already_loaded_cost_no_query(django_assert_num_queries):
    user = UserFactory()
    accounts = [MitelAccount(password_max_age_days=30, password_warning_days=7)]
    with django_assert_num_queries(0):
        expiry = password_expiry(user, accounts=accounts, now=timezone.now() + timedelta(days=25))
    assert (expiry.warn, expiry.days_left) == (True, 4)


@pytest.mark.parametrize("days_ago", [10, 85, 90, 120])
def test_an_expiry_always_says_when(days_ago):
    """Expired or not, the date is the one the expiry page shows: the change plus the maximum age."""
    changed = WHEN - timedelta(days=days_ago)
    expiry = expiry_of(changed, PasswordPolicy(90, 14), now=WHEN)
    assert expiry.expires_at == changed + timedelta(days=90)


def test_the_warning_page_shows_the_day_the_password_stops_working(client):
    MembershipFactory(user__username="dave@acme.example", user__password=DEMO_PASSWORD,
                      user__password_changed_at=timezone.now() - timedelta(days=80),
                      account__password_max_age_days=90)
    start_sign_in(client, "dave@acme.example")
    page = client.get("/signin/expiry/").content.decode()
    expires = (timezone.now() + timedelta(days=10)).date().isoformat()
    assert f'<time datetime="{expires}T' in page


# --- Changing a password ------------------------------------------------------------------------


def test_the_change_page_records_an_ordinary_change(client):
    member()
    sign_in(client, ALICE)
    client.post("/password/change/", {"current_password": DEMO_PASSWORD, **new_password()})
    assert AuditEvent.objects.get(kind=AuditEvent.Kind.PASSWORD_CHANGED).detail["reason"] == "changed"


def test_a_change_at_a_given_time_is_dated_then_in_the_record_and_the_mail(
        mailoutbox, django_capture_on_commit_callbacks):
    alice = member()
    with django_capture_on_commit_callbacks(execute=True):
        change_password(alice, NEW_PASSWORD, now=WHEN)
    assert User.objects.get(pk=alice.pk).password_changed_at == WHEN
    [mail] = mailoutbox
    assert "was changed on 14 Mar 2026 at 15:09 UTC" in " ".join(mail.body.split())


def test_a_change_writes_only_the_password_not_what_others_changed_meanwhile():
    """The user object was read before support deactivated the user and changed the address."""
    alice = member()
    User.objects.filter(pk=alice.pk).update(is_active=False, email="new@acme.example")
    change_password(alice, NEW_PASSWORD)
    stored = User.objects.get(pk=alice.pk)
    assert stored.check_password(NEW_PASSWORD)
    assert (stored.is_active, stored.email) == (False, "new@acme.example")


def test_a_broken_confirmation_mail_does_not_undo_the_change(monkeypatch, django_capture_on_commit_callbacks,
                                                             caplog):
    def broken(*args, **kwargs):
        raise TemplateSyntaxError("a broken translation")

    monkeypatch.setattr("accounts.services.mail.render_to_string", broken)
    alice = member()
    with django_capture_on_commit_callbacks(execute=True):
        assert change_password(alice, NEW_PASSWORD) == 0
    assert User.objects.get(pk=alice.pk).check_password(NEW_PASSWORD)
    assert "a broken translation" in caplog.text


def test_a_contacts_change_is_recorded_only_in_the_accounts_they_manage(rf):
    """Globex's contacts never read the name of Acme's contact."""
    user, acme, globex, grace = two_accounts_one_contact()
    change_password(user, NEW_PASSWORD, acting_user=grace)
    events = AuditEvent.objects.filter(kind=AuditEvent.Kind.PASSWORD_CHANGED)
    assert [(e.account, e.actor) for e in events] == [(acme, grace)]


def test_a_users_own_change_is_recorded_in_each_of_their_accounts(rf):
    user, acme, globex, _ = two_accounts_one_contact()
    change_password(user, NEW_PASSWORD, acting_user=user)
    events = AuditEvent.objects.filter(kind=AuditEvent.Kind.PASSWORD_CHANGED).order_by("account_id")
    assert [(e.account, e.actor) for e in events] == [(acme, user), (globex, user)]


# --- Completing a reset -------------------------------------------------------------------------


def test_a_reset_and_the_unlock_it_brings_record_the_browser_that_did_it(mailoutbox):
    from tests.accounts.test_reset_rules import RESET_PATH

    LockoutFactory(key=ALICE)
    alice = member()
    ask_for_reset(ALICE)
    link = RESET_PATH.search(mailoutbox[0].body).group(1)
    browser = Client(REMOTE_ADDR="198.51.100.7", HTTP_USER_AGENT="Firefox/140")
    opened = browser.get(link)
    assert browser.post(opened["Location"], new_password()).status_code == 302
    for kind in (AuditEvent.Kind.PASSWORD_RESET, AuditEvent.Kind.UNLOCKED):
        event = AuditEvent.objects.get(kind=kind, user=alice)
        assert (event.ip_address, event.user_agent) == ("198.51.100.7", "Firefox/140"), kind


def test_a_reset_at_a_given_time_is_dated_then():
    alice = member()
    complete_password_reset(alice, NEW_PASSWORD, now=WHEN)
    assert User.objects.get(pk=alice.pk).password_changed_at == WHEN


# --- The forgot-password page and its worker ----------------------------------------------------


def test_the_mail_is_in_the_language_of_the_page_that_asked_for_it(client, mailoutbox):
    member()
    client.cookies["mitel_language"] = "it"
    assert client.post("/password/forgot/", {"login": ALICE})["Location"] == SENT
    [mail] = mailoutbox
    assert mail.subject == "Reimposta la password Mitel"


def test_a_request_without_a_browser_name_records_none(mailoutbox):
    member()
    ask_for_reset(ALICE)
    [event] = requests_recorded()
    assert (event.ip_address, event.user_agent) == ("192.0.2.10", "")
    send_requested_password_reset(ALICE, ip_address="192.0.2.11")
    assert requests_recorded()[-1].user_agent == ""


def test_each_request_records_what_support_needs_to_know(mailoutbox):
    initech = MitelAccountFactory(name="Initech", okta=True)
    frank = MembershipFactory(user__username="frank@initech.example", user__sso_only=True,
                              account=initech).user
    member()
    nomail = member("nomail@acme.example", email="")
    for login in (ALICE, frank.username, nomail.username):
        ask_for_reset(login, HTTP_USER_AGENT="Firefox/140")
    seen = [(e.user.username, e.ip_address, e.user_agent,
             {k: v for k, v in e.detail.items() if k != "request_id"}) for e in requests_recorded()]
    assert seen == [
        (ALICE, "192.0.2.10", "Firefox/140", {"matched": True, "single_sign_on": False, "has_email": True}),
        (frank.username, "192.0.2.10", "Firefox/140",
         {"matched": True, "single_sign_on": True, "has_email": True}),
        (nomail.username, "192.0.2.10", "Firefox/140",
         {"matched": True, "single_sign_on": False, "has_email": False}),
    ]
    assert all(len(e.detail["request_id"]) == 32 for e in requests_recorded())


def test_a_refusal_by_address_records_the_address_and_browser(settings):
    settings.PASSWORD_RESET_REQUESTS_PER_ADDRESS = 1
    ask_for_reset("nobody@acme.example", HTTP_USER_AGENT="curl/8")
    ask_for_reset("someone@acme.example", HTTP_USER_AGENT="curl/8")
    refused = requests_recorded()[-1]
    assert refused.detail["refused"] == "too_many_from_address"
    assert (refused.username, refused.ip_address, refused.user_agent) == (
        "someone@acme.example", "192.0.2.10", "curl/8")
    assert len(refused.detail["request_id"]) == 32


def test_the_worker_answers_how_many_mails_left(settings, mailoutbox):
    """One address typed can name two users: one by username, the other by stored address."""
    settings.PASSWORD_RESET_MAILS_PER_USER = 1
    UserFactory(username="pat@acme.example", email="pat@home.example")
    UserFactory(username="pat.doe", email="pat@acme.example")
    assert send_requested_password_reset("nobody@acme.example", ip_address="192.0.2.1") == 0
    assert send_requested_password_reset("pat@acme.example", ip_address="192.0.2.1") == 2
    assert sorted(m.to[0] for m in mailoutbox) == ["pat@acme.example", "pat@home.example"]
    assert send_requested_password_reset("pat@acme.example", ip_address="192.0.2.1") == 0  # the limit
    settings.PASSWORD_RESET_REQUESTS_PER_ADDRESS = 1
    assert send_requested_password_reset("pat.doe", ip_address="192.0.2.1") == 0
    assert len(mailoutbox) == 2


def test_an_address_stored_in_full_width_letters_is_found_as_typed(mailoutbox):
    user = UserFactory(username="mike", email="ｍｉｋｅ@example.org")
    ask_for_reset("ｍｉｋｅ@example.org")
    assert [m.to for m in mailoutbox] == [[user.email]]


# --- The limits count forgot-password requests of the last hour, and nothing else --------------


def test_failed_sign_ins_from_an_address_do_not_count_as_reset_requests(settings, mailoutbox):
    """Someone who could not remember their password asks for a reset from the same address."""
    settings.PASSWORD_RESET_REQUESTS_PER_ADDRESS = 1
    member()
    start_sign_in(Client(REMOTE_ADDR="192.0.2.10"), ALICE, "not the password")
    start_sign_in(Client(REMOTE_ADDR="192.0.2.10"), "bob@acme.example", "not the password")
    assert AuditEvent.objects.filter(ip_address="192.0.2.10").exists()
    ask_for_reset(ALICE)
    assert [m.to for m in mailoutbox] == [[ALICE]]


def test_links_support_sent_do_not_use_up_the_users_own_requests(settings, rf, mailoutbox):
    settings.PASSWORD_RESET_MAILS_PER_USER = 1
    user, acme, globex, grace = two_accounts_one_contact()
    send_password_reset(user, request=portal_request(rf), acting_user=grace)
    ask_for_reset(user.username)
    assert len(mailoutbox) == 2


@pytest.mark.parametrize("limit", ["PASSWORD_RESET_MAILS_PER_USER", "PASSWORD_RESET_REQUESTS_PER_ADDRESS"])
def test_requests_older_than_an_hour_no_longer_count(settings, mailoutbox, limit):
    setattr(settings, limit, 1)
    member()
    ask_for_reset(ALICE)
    age_events(60.5)
    ask_for_reset(ALICE)
    assert len(mailoutbox) == 2


@pytest.mark.parametrize("limit", ["PASSWORD_RESET_MAILS_PER_USER", "PASSWORD_RESET_REQUESTS_PER_ADDRESS"])
def test_refused_requests_do_not_prolong_the_wait(settings, mailoutbox, limit):
    """Once the request that was mailed is an hour old, the next one is mailed again, however many
    were refused in between."""
    setattr(settings, limit, 1)
    member()
    ask_for_reset(ALICE)
    age_events(30)
    ask_for_reset(ALICE)
    assert len(mailoutbox) == 1
    age_events(31)
    ask_for_reset(ALICE)
    assert len(mailoutbox) == 2


def test_a_worker_that_started_earlier_still_counts_the_mail_another_just_sent(settings, mailoutbox):
    """Two workers, one request each for the same user: the row lock makes the second wait for the
    first, and the second must then count the first one's mail, recorded after it started."""
    settings.PASSWORD_RESET_MAILS_PER_USER = 1
    member()
    started = timezone.now()
    assert send_requested_password_reset(ALICE, ip_address="192.0.2.1") == 1  # the other worker
    assert send_requested_password_reset(ALICE, ip_address="192.0.2.2", now=started) == 0
    assert len(mailoutbox) == 1


# --- The Connect Portal's reset e-mails ---------------------------------------------------------


@pytest.mark.parametrize("target", ["themselves", "another staff member", "a superuser"])
def test_support_staff_cannot_send_a_reset_to_staff_or_themselves(rf, mailoutbox, target):
    support = UserFactory(staff=True)
    user = {"themselves": support, "another staff member": UserFactory(staff=True),
            "a superuser": UserFactory(superuser=True)}[target]
    with pytest.raises(PermissionDenied):
        send_password_reset(user, request=portal_request(rf), acting_user=support)
    assert mailoutbox == []
    assert not AuditEvent.objects.filter(kind=REQUESTED).exists()


def test_a_portal_send_is_recorded_in_the_contacts_accounts_with_where_it_came_from(rf, mailoutbox):
    user, acme, globex, grace = two_accounts_one_contact()
    assert send_password_reset(user, request=portal_request(rf), acting_user=grace) == 1
    [event] = requests_recorded()
    assert (event.user, event.actor, event.account) == (user, grace, acme)
    assert (event.ip_address, event.user_agent) == ("198.51.100.9", "Firefox/140")
    assert event.detail == {"matched": True, "single_sign_on": False, "has_email": True}


def test_a_send_without_a_contact_is_recorded_in_each_account(rf, mailoutbox):
    user, acme, globex, _ = two_accounts_one_contact()
    send_password_reset(user, request=portal_request(rf))
    assert [(e.account, e.actor) for e in requests_recorded()] == [(acme, None), (globex, None)]


def test_a_portal_send_to_a_deactivated_user_is_recorded_with_who_and_where(rf, mailoutbox):
    user, acme, globex, grace = two_accounts_one_contact()
    User.objects.filter(pk=user.pk).update(is_active=False)
    user.refresh_from_db()
    assert send_password_reset(user, request=portal_request(rf), acting_user=grace) == 0
    [event] = requests_recorded()
    assert (event.actor, event.ip_address, event.user_agent) == (grace, "198.51.100.9", "Firefox/140")
    assert event.detail == {"matched": False}


def test_a_portal_send_to_a_single_sign_on_user_says_where_to_reset(rf, mailoutbox):
    initech = MitelAccountFactory(name="Initech", okta=True)
    frank = MembershipFactory(user__username="frank@initech.example", user__sso_only=True,
                              account=initech).user
    grace = MembershipFactory(account=initech, decision_maker=True).user
    assert send_password_reset(frank, request=portal_request(rf), acting_user=grace) == 1
    [mail] = mailoutbox
    assert mail.subject == "Your Mitel password is managed by your company"
    assert "/password/reset/" not in mail.body
    assert requests_recorded()[0].detail["single_sign_on"] is True


def test_a_portal_send_to_a_user_without_an_address_records_it(rf, mailoutbox):
    user = member("nomail@acme.example", email="")
    assert send_password_reset(user, request=portal_request(rf)) == 0
    assert requests_recorded()[0].detail == {"matched": True, "single_sign_on": False, "has_email": False}


def test_whether_a_user_signs_in_with_sso_only_costs_one_query(django_assert_num_queries):
    user = UserFactory(sso_only=True)
    for _ in range(3):
        MembershipFactory(user=user, account=MitelAccountFactory(okta=True))
    with django_assert_num_queries(1):
        assert len(identity_provider_accounts(user)) == 3


# --- The set-password e-mail when an account stops using Single Sign On -------------------------


def test_the_set_password_mail_names_the_account_and_how_long_the_link_works(mailoutbox):
    from sso.tasks import send_set_password_mails

    user, acme, globex, grace = two_accounts_one_contact()
    user.set_unusable_password()
    user.save()
    assert send_set_password_mails.call(acme.pk, [user.pk], grace.pk, ip_address="198.51.100.9",
                                        user_agent="Firefox/140") == 1
    [mail] = mailoutbox
    assert mail.subject == "Choose a Mitel password: Acme no longer uses Single Sign On"
    assert "Acme now signs in to Mitel with Mitel passwords" in mail.body
    assert "The link works once, for 60 minutes." in " ".join(mail.body.split())
    [event] = requests_recorded()
    assert (event.user, event.actor, event.account) == (user, grace, acme)
    assert (event.ip_address, event.user_agent) == ("198.51.100.9", "Firefox/140")
    assert event.detail == {"matched": True, "reason": "sso_turned_off", "has_email": True}


def test_a_set_password_mail_sent_without_a_browser_records_none(mailoutbox):
    from accounts.services.passwords import send_set_password

    user, acme, _, _ = two_accounts_one_contact()
    user.set_unusable_password()
    user.save()
    assert send_set_password(user, account=acme, actor=None) is True
    [event] = requests_recorded()
    assert (event.actor, event.ip_address, event.user_agent) == (None, None, "")


def test_a_set_password_link_lasts_as_configured(settings, mailoutbox):
    from accounts.services.passwords import send_set_password

    settings.PASSWORD_RESET_TIMEOUT = 7200
    user, acme, _, _ = two_accounts_one_contact()
    user.set_unusable_password()
    user.save()
    send_set_password(user, account=acme, actor=None)
    assert "The link works once, for 120 minutes." in " ".join(mailoutbox[0].body.split())
