"""One username, however it is typed: what is stored, compared and counted towards a lockout."""

import pytest
from django.conf import settings
from django.test import Client

from accounts.models import LockoutCounter
from accounts.usernames import canonical_username
from tests.factories import UserFactory
from tests.signin import enter_password, enter_username

LIMIT = settings.LOCKOUT_FAILURE_LIMIT


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
    assert set(LockoutCounter.objects.filter(scope="username").values_list("key", flat=True)) == {
        user.username}
    assert LockoutCounter.objects.get(scope="username").failures == LIMIT
    client = Client(REMOTE_ADDR="198.51.100.99")
    enter_username(client, user.username)
    response = enter_password(client, "correct horse battery staple")
    assert response.status_code == 429 and "Your sign-in is locked" in response.content.decode()
    assert "_auth_user_id" not in client.session
