"""Names and usernames carry no control characters or links, and e-mails never show a user-entered
value as a link or as a paragraph of its own (issue 21)."""

import pytest
from django.core.exceptions import ValidationError
from django.forms import modelform_factory
from django.test import RequestFactory

from accounts.models import User
from accounts.services.passwords import send_password_reset
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

INJECTED = "Pat\r\n\r\nYour account is suspended. Restore it at https://evil.example/restore"
UserForm = modelform_factory(User, fields=("username", "first_name", "last_name", "email"))


def form_errors(**fields) -> dict:
    data = {"username": "pat@acme.example", "first_name": "Pat", "last_name": "Doe",
            "email": "pat@acme.example", **fields}
    return UserForm(data=data).errors


@pytest.mark.parametrize("name", [
    "Pat\r\nDoe", "Pat\nDoe", "Pat\rDoe", "Pat\tDoe", "Pat\x00", "Pat\u2028Doe", "Pat\u202eeoD",
])
@pytest.mark.parametrize("field", ["first_name", "last_name"])
def test_a_name_with_a_line_break_or_a_control_character_is_refused(name, field):
    assert field in form_errors(**{field: name})


@pytest.mark.parametrize("name", [
    "https://evil.example", "Pat http://evil.example", "Pat www.evil.example", "mailto:pat@evil.example",
    "javascript:alert(1)", "HTTPS://EVIL.EXAMPLE",
])
def test_a_name_with_a_link_is_refused(name):
    assert "first_name" in form_errors(first_name=name)


@pytest.mark.parametrize("name", ["Pat", "Anne-Marie", "José María", "O'Brien", "Zoë", "李 小龙",
                                  "Dr. Jane Smith", "Jean (JJ)"])
def test_ordinary_names_are_accepted(name):
    assert form_errors(first_name=name, last_name=name) == {}


@pytest.mark.parametrize("username", [
    "https://evil.example", "http://pat@acme.example", "javascript:alert(1)", "mailto:pat@acme.example",
    "pat@acme.example/https://evil.example", "www.evil.example", "pat smith@acme.example",
    "pat\u00a0smith@acme.example", "pat\tsmith", "pat\r\n@acme.example",
])
def test_a_username_with_a_url_scheme_or_whitespace_is_refused(username):
    assert "username" in form_errors(username=username)


@pytest.mark.parametrize("username", ["pat@acme.example", "pat.smith", "p.o'brien@acme.example",
                                      "jürgen@acme.example", "  Pat@ACME.example  "])
def test_ordinary_usernames_are_accepted(username):
    assert form_errors(username=username) == {}


def test_the_model_refuses_them_too():
    user = User(username="http://evil.example", first_name="Pat\r\nDoe")
    with pytest.raises(ValidationError) as refused:
        user.full_clean()
    assert {"username", "first_name"} <= set(refused.value.message_dict)


def reset_mail_for(user, mailoutbox):
    request = RequestFactory().get("/", HTTP_HOST="testserver")
    send_password_reset(user, request=request)
    [message] = mailoutbox
    return message.body, message.alternatives[0][0]


def test_a_stored_name_with_a_line_break_stays_on_the_greeting_line_and_shows_no_link(mailoutbox):
    user = UserFactory(first_name="placeholder")
    User.objects.filter(pk=user.pk).update(first_name=INJECTED)  # stored before names were checked
    user.refresh_from_db()
    text, html = reset_mail_for(user, mailoutbox)
    first_paragraph = text.split("\n\n")[0]
    assert first_paragraph.startswith("Hello ") and "\n" not in first_paragraph
    assert "evil.example" not in text and "evil.example" not in html
    assert "\r" not in text


def test_the_reset_mail_greets_by_the_first_name(mailoutbox):
    text, html = reset_mail_for(UserFactory(first_name="Zoë"), mailoutbox)
    assert text.startswith("Hello Zoë,") and "Hello Zoë," in html


def test_no_mail_template_turns_text_into_links():
    from pathlib import Path

    from django.conf import settings

    folder = Path(settings.BASE_DIR) / "templates" / "accounts" / "email"
    templates = sorted(folder.glob("*.*"))
    assert templates
    for template in templates:
        assert "urlize" not in template.read_text(), template.name
