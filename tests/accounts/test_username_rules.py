"""One username, however it is typed: what is stored, compared and counted towards a lockout."""

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client, RequestFactory

from accounts.usernames import axes_username, canonical_username
from tests.factories import UserFactory
from tests.signin import enter_password, enter_username

LIMIT = settings.AXES_FAILURE_LIMIT


@pytest.mark.parametrize(("typed", "stored"), [
    ("pat@example.com", "pat@example.com"),
    ("  Pat@Example.COM\t", "pat@example.com"),
    ("ＰＡＴ@ｅｘａｍｐｌｅ.com", "pat@example.com"),  # full-width letters
    ("ﬁona@example.com", "fiona@example.com"),  # the fi ligature
    ("straße@example.com", "straße@example.com"),  # lower(), not casefold(): still deliverable
    ("", ""),
    (None, ""),
    (42, "42"),
])
def test_every_way_of_typing_a_username_has_one_canonical_form(typed, stored):
    assert canonical_username(typed) == stored


def test_axes_counts_the_canonical_username_it_is_given():
    assert axes_username(None, {"username": " PAT@Example.com "}) == "pat@example.com"


def test_axes_reads_the_posted_username_when_it_is_given_no_credentials():
    request = RequestFactory().post("/signin/", {"username": " PAT@Example.com "})
    assert axes_username(request, None) == "pat@example.com"
    assert axes_username(request, {}) == "pat@example.com"


def test_the_given_credentials_win_over_the_posted_form():
    request = RequestFactory().post("/signin/", {"username": "someone.else@example.com"})
    assert axes_username(request, {"username": "Pat@example.com"}) == "pat@example.com"


def test_without_credentials_or_a_form_axes_counts_no_username():
    assert axes_username(None, None) == ""
    assert axes_username(RequestFactory().get("/signin/"), None) == ""
    assert axes_username(object(), None) == ""


def test_axes_reads_the_field_the_settings_name(settings):
    settings.AXES_USERNAME_FORM_FIELD = "login"
    request = RequestFactory().post("/signin/", {"login": "Pat@example.com", "username": "x@example.com"})
    assert axes_username(request, None) == "pat@example.com"
    assert axes_username(None, {"login": "Pat@example.com", "username": "x@example.com"}) == \
        "pat@example.com"


@pytest.mark.django_db
def test_failures_under_every_spelling_of_a_username_lock_that_one_username():
    user = UserFactory(username="pat@example.com")
    spellings = ["pat@example.com", "PAT@example.com", " Pat@Example.com ", "ｐａｔ@example.com",
                 "pat@EXAMPLE.com"]
    assert len(spellings) == LIMIT
    for n, spelling in enumerate(spellings):
        client = Client(REMOTE_ADDR=f"198.51.100.{n + 1}")  # a new address each time
        enter_username(client, spelling)
        enter_password(client, "not the password")
    assert set(AccessAttempt.objects.values_list("username", flat=True)) == {user.username}
    client = Client(REMOTE_ADDR="198.51.100.99")
    enter_username(client, user.username)
    response = enter_password(client, "correct horse battery staple")
    assert response.status_code == 429 and "Your sign-in is locked" in response.content.decode()
    assert "_auth_user_id" not in client.session
