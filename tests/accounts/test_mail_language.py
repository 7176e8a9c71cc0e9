"""E-mails that leave the request through the task queue are written in the language of the page
that caused them, as those sent at once are: the contact's, since a user has no language of their
own. With the database backend of production, run by ``db_worker`` outside any request."""

import pytest
from django.core.management import call_command
from django.utils import translation

from accounts.services import invitations
from sso.services import setup
from tests.factories import MembershipFactory, MitelAccountFactory

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
