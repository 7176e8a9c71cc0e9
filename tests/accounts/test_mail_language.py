"""E-mails are written in their recipient's language (``User.language``: the one they last signed
in with or chose on a page), whoever's action sends them. A user without one (made before it was
kept) gets the language of the page that caused the mail, also when it leaves the request through
the task queue: with the database backend of production, run by ``db_worker`` outside any request."""

import pytest
from django.core.management import call_command
from django.utils import translation

from accounts.models import User
from accounts.services import invitations
from accounts.services.mail import send_template_mail
from accounts.services.users import provision_user
from sso.services import setup
from tests.factories import MembershipFactory, MitelAccountFactory, UserFactory
from tests.signin import DEMO_PASSWORD, sign_in

IT_MFA_RESET = "Il tuo accesso Mitel: l'autenticazione a più fattori è stata reimpostata"

pytestmark = pytest.mark.django_db(transaction=True)  # the worker commits and closes connections


@pytest.fixture
def database_queue(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def run_the_worker() -> None:
    call_command("db_worker", batch=True, reload=False, startup_delay=False, interval=0, verbosity=0)


def test_a_new_users_mail_is_in_the_language_of_the_contact_who_created_them(database_queue, mailoutbox):
    account = MitelAccountFactory(name="Acme Dental")
    contact = MembershipFactory(account=account, decision_maker=True).user
    new = MembershipFactory(account=account, user__username="neu@acme.example", user__sso_only=True).user
    with translation.override("de"):
        invitations.welcome(new, account, acting_user=contact)
    assert mailoutbox == []
    run_the_worker()
    [mail] = mailoutbox
    assert mail.to == [new.email] and mail.subject == "Ihr Mitel-Benutzername für Acme Dental"


def test_the_set_password_mails_are_in_the_language_of_the_contact_who_turned_sso_off(
    database_queue, mailoutbox
):
    account = MitelAccountFactory(name="Acme Dental", entra=True)
    contact = MembershipFactory(account=account, decision_maker=True).user
    amy = MembershipFactory(account=account, user__username="amy@acme.example", user__sso_only=True).user
    with translation.override("es"):
        assert setup.turn_off(account, acting_user=contact) == 1
    run_the_worker()
    [mail] = mailoutbox
    assert mail.to == [amy.email]
    assert mail.subject == ("Elija una contraseña de Mitel: Acme Dental ya no usa el inicio de sesión "
                            "único")
    assert "<strong>amy@acme.example</strong>" in mail.alternatives[0][0]


def test_a_mail_is_in_its_recipients_language_whatever_the_page_that_sent_it(database_queue, mailoutbox):
    account = MitelAccountFactory(name="Acme Dental")
    contact = MembershipFactory(account=account, decision_maker=True).user
    new = MembershipFactory(account=account, user__username="nouveau@acme.example", user__sso_only=True,
                            user__language="fr").user
    with translation.override("de"):  # the contact reads German; the new user French
        invitations.welcome(new, account, acting_user=contact)
    run_the_worker()
    [mail] = mailoutbox
    assert mail.subject == "Votre nom d'utilisateur Mitel pour Acme Dental"


def test_an_invitation_to_join_leaves_through_the_worker_in_the_contacts_language(
    database_queue, mailoutbox
):
    """An existing user invited to another account: the Connect Portal's request only stores the
    task; the worker mails it, in the language of the contact's page (the user has none)."""
    acme, umbrella = MitelAccountFactory(name="Acme Dental"), MitelAccountFactory(name="Umbrella Corp")
    contact = MembershipFactory(account=umbrella, decision_maker=True).user
    bob = MembershipFactory(account=acme, user__username="bob@multi.example", user__language="").user
    with translation.override("fr"):
        invitations.invite(umbrella, bob, frozenset(), acting_user=contact)
    assert mailoutbox == []
    run_the_worker()
    [mail] = mailoutbox
    assert mail.to == [bob.email] and mail.subject == "Vous êtes invité à rejoindre Umbrella Corp dans Mitel"


def test_an_invitation_replaced_or_cancelled_before_the_worker_runs_is_not_mailed(
    database_queue, mailoutbox
):
    acme, umbrella = MitelAccountFactory(name="Acme Dental"), MitelAccountFactory(name="Umbrella Corp")
    contact = MembershipFactory(account=umbrella, decision_maker=True).user
    bob = MembershipFactory(account=acme, user__username="bob@multi.example").user
    dan = MembershipFactory(account=acme, user__username="dan@acme.example").user
    invitations.invite(umbrella, bob, frozenset(), acting_user=contact)
    newer = invitations.invite(umbrella, bob, frozenset(), acting_user=contact)  # replaces the first
    cancelled = invitations.invite(umbrella, dan, frozenset(), acting_user=contact)
    invitations.revoke(cancelled, acting_user=contact)
    run_the_worker()
    [mail] = mailoutbox
    assert mail.to == [bob.email] and f"/me/invitations/{newer.token}/" in mail.body


def test_a_user_made_by_a_contact_takes_the_contacts_language_until_they_choose(db):
    contact = UserFactory()
    with translation.override("nl"):
        made = provision_user(User(username="nieuw@acme.example"), acting_user=contact)
    assert User.objects.get(pk=made.pk).language == "nl"
    with translation.override("nl"):
        chosen = provision_user(User(username="nuovo@acme.example", language="it"), acting_user=contact)
    assert User.objects.get(pk=chosen.pk).language == "it"


def test_the_language_switcher_keeps_a_signed_in_persons_choice_for_their_mail(demo, client, mailoutbox):
    alice = User.objects.get(username="alice@acme.example")
    response = client.post("/i18n/setlang/", {"language": "es", "next": "/signin/"})
    assert response.status_code == 302 and response.cookies["mitel_language"].value == "es"
    assert User.objects.get(pk=alice.pk).language == alice.language  # nobody signed in: no one's

    sign_in(client, "alice@acme.example", DEMO_PASSWORD)
    client.post("/i18n/setlang/", {"language": "it", "next": "/me/"})
    client.post("/i18n/setlang/", {"language": "xx", "next": "/me/"})  # not one of ours: kept
    assert User.objects.get(pk=alice.pk).language == "it"
    assert "Italiano" in client.get("/me/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    with translation.override("en"):  # support resets her MFA from an English page
        send_template_mail(User.objects.get(pk=alice.pk), "mfa_reset")
    [mail] = mailoutbox
    assert mail.subject == IT_MFA_RESET


def test_signing_in_keeps_the_language_of_the_sign_in(demo, client):
    """Written with last_login (tests/accounts/test_signin_queries.py counts the statements)."""
    client.cookies["mitel_language"] = "fr"  # a French page (the switcher's cookie, or the browser's)
    sign_in(client, "alice@acme.example", DEMO_PASSWORD)
    assert User.objects.get(username="alice@acme.example").language == "fr"
    client.cookies["mitel_language"] = "nl"
    sign_in(client, "alice@acme.example", DEMO_PASSWORD)
    assert User.objects.get(username="alice@acme.example").language == "nl"
