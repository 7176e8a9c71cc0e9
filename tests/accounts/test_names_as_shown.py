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


# (No NUL: PostgreSQL text cannot hold one, so no stored name can.)
@pytest.mark.parametrize("stored", ["Mary\r\nAnn", "Mary\u202eAnn", "Mary\x1bAnn", "  Mary \t Ann  "])
def test_a_stored_name_broken_by_control_characters_is_greeted_on_one_line(stored, mailoutbox):
    assert greeting(stored, mailoutbox) == "Hello Mary Ann,"


def test_a_stored_name_holding_a_link_is_left_out_of_the_greeting(mailoutbox):
    assert greeting("Mary www.evil.example", mailoutbox) == "Hello pat@acme.example,"


# Each refusal has its own code, so a form can word it its own way: a ModelForm's
# Meta.error_messages, keyed by that code, replaces the message (Django's BaseModelForm._update_errors).
WordedUserForm = modelform_factory(
    User, fields=("username", "first_name", "last_name", "email"),
    error_messages={
        "username": {"whitespace": "Usernames are one word here.", "link": "No links in usernames."},
        "first_name": {"control_characters": "One line only.", "link": "No links in names."},
    },
)


@pytest.mark.parametrize(("field", "value", "shown"), [
    ("username", "pat smith@acme.example", "Usernames are one word here."),
    ("username", "pat\u202e@acme.example", "Usernames are one word here."),
    ("username", "www.evil.example", "No links in usernames."),
    ("first_name", "Pat\nDoe", "One line only."),
    ("first_name", "Pat mailto:pat@evil.example", "No links in names."),
])
def test_a_form_can_word_each_refusal_its_own_way(field, value, shown):
    data = {"username": "pat@acme.example", "first_name": "Pat", "last_name": "Doe",
            "email": "pat@acme.example"}
    assert WordedUserForm(data={**data, field: value}).errors[field] == [shown]
