"""``/password/change/``: current password, new one twice, rules shown live (SECURITY.md 5, 9, 12, 15)."""

import re

import pytest
from django.test import Client

from accounts.models import AuditEvent, User, UserSession
from accounts.services.passwords import change_password
from tests.factories import MembershipFactory, UserFactory

from .password_helpers import DEMO_PASSWORD, NEW_PASSWORD, audit_kinds, is_signed_in, new_password, sign_in

ALICE = "alice@acme.example"


def change(client: Client, current: str = DEMO_PASSWORD, password: str = NEW_PASSWORD,
           again: str | None = None, **extra):
    return client.post("/password/change/", {"current_password": current,
                                             **new_password(password, again), **extra})


@pytest.fixture
def alice(db) -> User:
    """A password user of a Mitel-authenticated account."""
    return MembershipFactory(user__username=ALICE, user__password=DEMO_PASSWORD).user


@pytest.fixture
def alice_client(client, alice):
    sign_in(client, ALICE)
    return client


def test_the_change_page_needs_a_signed_in_user(client, db):
    assert client.get("/password/change/")["Location"] == "/signin/?next=/password/change/"


def test_changing_the_password_needs_the_current_one(alice_client):
    response = change(alice_client, current="not my password at all")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Your current password is incorrect." in page
    assert re.search(r'name="current_password"[^>]*aria-invalid="true"', page)
    assert User.objects.get(username=ALICE).check_password(DEMO_PASSWORD)


def test_wrong_current_passwords_count_towards_the_lockout(alice_client, settings, hash_calls):
    for _ in range(settings.LOCKOUT_FAILURE_LIMIT - 1):
        assert change(alice_client, current="wrong guess").status_code == 200
    response = change(alice_client, current="wrong guess")
    assert response.status_code == 429 and "Your sign-in is locked" in response.content.decode()
    with hash_calls() as calls:
        response = change(alice_client)  # the right one, but the username is locked out
    assert response.status_code == 429 and calls.count == 0
    assert User.objects.get(username=ALICE).check_password(DEMO_PASSWORD)


def test_a_password_change_ends_the_users_other_sessions_and_keeps_this_one(alice_client, alice):
    phone, bob = Client(), Client()
    sign_in(phone, ALICE)
    bob.force_login(UserFactory())
    assert UserSession.objects.filter(user_id=alice.pk).count() == 2

    response = change(alice_client)
    assert response["Location"] == "/me/"
    # Ended at once, not only at the phone's next request (when Django's session hash check would).
    assert UserSession.objects.filter(user_id=alice.pk).count() == 1
    assert alice_client.get("/password/change/").status_code == 200  # still signed in here
    assert phone.get("/password/change/")["Location"].startswith("/signin/")  # signed out there
    assert not is_signed_in(phone)
    assert is_signed_in(bob)


def test_a_change_is_recorded_and_confirmed_by_e_mail(alice_client, alice, mailoutbox,
                                                      django_capture_on_commit_callbacks):
    Client().force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        change(alice_client)
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.PASSWORD_CHANGED)
    assert (event.user, event.actor, event.detail["sessions_ended"]) == (alice, alice, 1)
    assert event.ip_address == "127.0.0.1"
    [mail] = mailoutbox
    assert mail.to == [ALICE] and mail.subject == "Your Mitel password was changed"
    assert "Your other sessions have been signed out" in mail.body
    assert "http://testserver/password/forgot/" in mail.body
    [(html, mimetype)] = mail.alternatives
    assert mimetype == "text/html" and 'href="http://testserver/password/forgot/"' in html


def test_the_mail_is_sent_only_once_the_change_is_committed(alice_client, mailoutbox,
                                                            django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        change(alice_client)
    assert mailoutbox == [] and len(callbacks) == 1


def test_a_mail_server_failure_does_not_undo_the_change(alice_client, settings,
                                                        django_capture_on_commit_callbacks):
    settings.MAILERS = {"default": {"BACKEND": "tests.accounts.password_helpers.BrokenMailBackend"}}
    with django_capture_on_commit_callbacks(execute=True):
        response = change(alice_client)
    assert response.status_code == 302
    assert User.objects.get(username=ALICE).check_password(NEW_PASSWORD)


def test_the_new_password_must_differ_from_the_current_one(client, db):
    from tests.factories import PASSWORD

    user = UserFactory()
    client.force_login(user)
    response = change(client, current=PASSWORD, password=PASSWORD)
    assert "must be different from your current one" in response.content.decode()


@pytest.mark.parametrize(
    ("password", "again", "message"),
    [
        ("too short", "too short", "Your new password has 9 characters: it needs at least 15."),
        ("Mitel phones rule", "Mitel phones rule", "can&#x27;t contain “mitel”"),
        ("alice in wonderland", "alice in wonderland", "your username or e-mail address"),
        ("qwertyuiopasdfghjkl", "qwertyuiopasdfghjkl", "too easy to guess"),
        (NEW_PASSWORD, "something else entirely", "The two new passwords are different"),
        ("", "", "Enter your new password."),
    ],
)
def test_refused_new_passwords_are_explained(alice_client, password, again, message):
    response = change(alice_client, password=password, again=again)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert User.objects.get(username=ALICE).check_password(DEMO_PASSWORD)


@pytest.mark.parametrize("length", [64, 100, 256])
def test_long_passwords_are_accepted_up_to_256_characters(alice_client, length):
    long_password = " ".join(f"otter{n} sang" for n in range(40))[:length]
    assert len(long_password) == length
    assert change(alice_client, password=long_password).status_code == 302
    assert User.objects.get(username=ALICE).check_password(long_password)


def test_the_rules_are_listed_beside_the_new_password_field_without_javascript(alice_client):
    response = alice_client.get("/password/change/")
    page = response.content.decode()
    rules = re.search(r'<ul class="password-rules" id="id_new_password1-rules".*?</ul>', page, re.S).group()
    for text in ["At least 15 characters (up to 256)", "Doesn&#x27;t contain “mitel” or your username",
                 "Not a commonly used password", "Both new passwords are the same"]:
        assert text in rules
    assert 'aria-describedby="id_new_password1-rules"' in page
    # The list comes before the confirmation field, right after the field it describes.
    positions = [page.index(text) for text in ('name="new_password1"', "password-rules",
                                               'name="new_password2"')]
    assert positions == sorted(positions)
    assert '<script src="/static/js/password-rules.js" defer></script>' in page
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page)  # no inline script (CSP)
    assert " style=" not in page
    assert "unsafe-inline" not in response["Content-Security-Policy"]


def test_the_script_ticks_the_rules_in_the_pages_language(alice_client):
    """The list carries the words the script writes as the user types (it has no catalogue)."""
    alice_client.cookies["mitel_language"] = "it"
    page = change(alice_client, password="Mitel", again="Mitel").content.decode()
    assert 'data-done="Fatto:" data-not-yet="Non ancora:"' in page
    assert "Non ancora: " in page and "Not yet" not in page


def test_after_a_refused_submit_the_list_shows_which_rules_were_met(alice_client):
    page = change(alice_client, password="Mitel", again="Mitel").content.decode()

    def state(code):
        return re.search(rf'<li class="password-rule([^"]*)" data-rule="{code}".*?</li>', page, re.S)

    assert "is-unmet" in state("length").group(1) and "Not yet: " in state("length").group()
    assert "is-unmet" in state("context").group(1)
    assert "is-met" in state("common").group(1) and "Done: " in state("common").group()
    assert "is-met" in state("match").group(1)
    # The rules describe the field; the sentence itself is said once, in the error summary.
    assert 'aria-describedby="id_new_password1-rules"' in page
    assert 'aria-invalid="true"' in page and 'id="id_new_password1-error"' not in page


def test_the_rules_script_is_served_as_a_static_file():
    from django.contrib.staticfiles import finders

    script = open(finders.find("js/password-rules.js")).read()
    assert 'dataset.rule' in script and "addEventListener(\"input\"" in script


def test_the_change_page_returns_to_a_local_next_only(alice_client):
    assert change(alice_client, next="/admin/")["Location"] == "/admin/"


def test_the_change_page_never_returns_to_another_site(alice_client):
    assert change(alice_client, next="//evil.example/")["Location"] == "/me/"


# --- The service, for the Connect Portal and the sign-in ----------------------------------------


def test_an_authorized_contact_changing_a_password_ends_all_the_users_sessions(alice, rf):
    grace = MembershipFactory(account=alice.memberships.get().account, decision_maker=True).user
    for _ in range(2):
        Client().force_login(alice)
    grace_client = Client()
    grace_client.force_login(grace)
    request = rf.post("/admin/")
    request.user, request.session = grace, grace_client.session
    assert change_password(alice, NEW_PASSWORD, request=request, acting_user=grace) == 2
    assert UserSession.objects.filter(user_id=alice.pk).count() == 0
    assert is_signed_in(grace_client)
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.PASSWORD_CHANGED)
    assert (event.user, event.actor) == (alice, grace)


def test_audit_trail_of_a_change_page_visit(alice_client, alice):
    change(alice_client)
    assert audit_kinds(alice) == [AuditEvent.Kind.SIGN_IN, AuditEvent.Kind.PASSWORD_CHANGED]
