"""What a person is told about a refused name, and how e-mails greet names stored before names were
checked (accounts.usernames; the refusals themselves are in test_names_and_mail.py)."""

import pytest
from django.forms import modelform_factory
from django.test import RequestFactory

from accounts.models import User
from accounts.services.passwords import send_password_reset
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

UserForm = modelform_factory(User, fields=("username", "first_name", "last_name", "email"))


def errors_for(field: str, value: str) -> list[str]:
    data = {"username": "pat@acme.example", "first_name": "Pat", "last_name": "Doe",
            "email": "pat@acme.example"}
    return UserForm(data={**data, field: value}).errors.get(field, [])


def errors_for_name(name: str) -> list[str]:
    return errors_for("first_name", name)


@pytest.mark.parametrize("name", [
    "Pat\r\nDoe",
    "Pat\u2029Doe",  # paragraph separator
    "Pat\u2028Doe",  # line separator
    "Pat\ud800",  # a lone surrogate, as a JSON escape in an identity provider's claims can carry
])
def test_a_name_with_a_line_break_is_refused_saying_why(name):
    assert errors_for_name(name) == [
        "A name can't contain line breaks, tabs or invisible control characters."]


def test_a_name_with_a_link_is_refused_saying_why():
    assert errors_for_name("Pat https://evil.example") == ["A name can't contain a web address or a link."]


def test_a_username_with_a_space_is_refused_saying_why():
    assert errors_for("username", "pat smith@acme.example") == [
        "A username can't contain spaces, line breaks or control characters."]


def test_a_username_with_a_link_is_refused_saying_why():
    assert errors_for("username", "https://evil.example") == [
        "A username can't be or contain a web address or a link."]


def greeting(first_name: str, mailoutbox) -> str:
    """The first line of a reset e-mail to a user whose first name was stored unchecked."""
    user = UserFactory(username="pat@acme.example", first_name="placeholder")
    User.objects.filter(pk=user.pk).update(first_name=first_name)
    user.refresh_from_db()
    send_password_reset(user, request=RequestFactory().get("/", HTTP_HOST="testserver"))
    [message] = mailoutbox
    return message.body.split("\n")[0]


@pytest.mark.parametrize("stored", ["Mary\r\nAnn", "Mary\u202eAnn", "Mary\x00Ann", "  Mary \t Ann  "])
def test_a_stored_name_broken_by_control_characters_is_greeted_on_one_line(stored, mailoutbox):
    assert greeting(stored, mailoutbox) == "Hello Mary Ann,"


def test_a_stored_name_holding_a_link_is_left_out_of_the_greeting(mailoutbox):
    assert greeting("Mary www.evil.example", mailoutbox) == "Hello pat@acme.example,"
