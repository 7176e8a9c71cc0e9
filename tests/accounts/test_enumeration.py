"""The sign-in page never tells a stranger who exists (SECURITY.md 1 and 4)."""

import re

import pytest

from accounts.models import Membership, MitelAccount
from tests.factories import UserFactory
from tests.signin import enter_password, enter_username, start

pytestmark = pytest.mark.django_db

HEADERS_THAT_MATTER = ("Location", "Content-Type", "Cache-Control", "Content-Security-Policy",
                       "X-Frame-Options", "Vary")


def normalised(response) -> tuple:
    """Status, body and the headers that matter, with the per-request tokens taken out."""
    body = response.content.decode()
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', 'name="csrfmiddlewaretoken"', body)
    body = re.sub(r'name="flow" value="[^"]+"', 'name="flow"', body)
    body = re.sub(r"'nonce-[^']+'", "'nonce'", body)
    headers = {name: response.headers.get(name) for name in HEADERS_THAT_MATTER}
    if headers["Content-Security-Policy"]:
        headers["Content-Security-Policy"] = re.sub(r"'nonce-[^']+'", "'nonce'",
                                                    headers["Content-Security-Policy"])
    return response.status_code, body, headers


@pytest.fixture
def sso_only_mitel_user(demo):
    """A user of a Mitel-authentication account whose password is unusable."""
    user = UserFactory(username="sso.only@acme.example", password=None)
    user.set_unusable_password()
    user.save()
    Membership.objects.create(user=user, account=MitelAccount.objects.get(account_number="100001"))
    return user


@pytest.mark.parametrize("app", ["", "miteam-meetings", "connect-client"])
def test_next_answers_alike_for_unknown_known_sso_only_and_locked_out_usernames(client, demo, app):
    params = {"app": app} if app else {}
    answers = []
    for username in ["nobody@nowhere.example", "alice@acme.example", "frank@initech.example",
                     "erin@contoso.example", "mallory@acme.example"]:
        start(client, **params)
        answers.append(normalised(enter_username(client, username)))
    assert all(answer == answers[0] for answer in answers)
    assert answers[0][0] == 302 and answers[0][2]["Location"] == "/signin/authenticate/"


def test_multi_account_usernames_answer_alike_when_the_app_asks_after_the_password(client, demo):
    start(client, app="connect-client")
    bob = normalised(enter_username(client, "bob@multi.example"))
    start(client, app="connect-client")
    nobody = normalised(enter_username(client, "nobody@nowhere.example"))
    assert bob == nobody


def test_the_picker_before_the_password_is_shown_only_to_real_multi_account_usernames(client, demo):
    """The documented trade-off of Mitel's default: it reveals that a username has accounts."""
    assert enter_username(client, "bob@multi.example", app="miteam-meetings")["Location"] == (
        "/signin/account/")
    assert enter_username(client, "nobody@x.example", app="miteam-meetings")["Location"] == (
        "/signin/authenticate/")


def test_the_password_screen_is_the_same_for_unknown_and_known_usernames(client, demo):
    pages = []
    for username in ["nobody@nowhere.example", "alice@acme.example"]:
        enter_username(client, username, app="miteam-meetings")
        page = normalised(client.get("/signin/authenticate/"))
        pages.append((page[0], page[1].replace(username, "USERNAME"), page[2]))
    assert pages[0] == pages[1]


def test_a_wrong_password_costs_one_hash_and_answers_alike_whoever_typed_it(
    client, demo, sso_only_mitel_user, hash_calls
):
    answers, costs = [], []
    for username in ["nobody@nowhere.example", "alice@acme.example", "sso.only@acme.example"]:
        enter_username(client, username)
        with hash_calls() as calls:
            response = enter_password(client, "Wrong-password-123!")
        costs.append(calls.count)
        status, body, headers = normalised(response)
        answers.append((status, body.replace(username, "USERNAME"), headers))
    assert costs == [1, 1, 1]
    assert answers[0] == answers[1] == answers[2]


def test_unknown_and_known_usernames_cost_the_same_queries_at_every_step(demo):
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    def queries(action) -> int:
        with CaptureQueriesContext(connection) as captured:
            action()
        return len(captured)

    costs = {}
    for username in ["nobody@nowhere.example", "alice@acme.example"]:
        client = Client()  # each from a new browser: a session to start is a session to start
        start(client, app="miteam-meetings")
        costs[username] = (
            queries(lambda c=client, u=username: enter_username(c, u)),
            queries(lambda c=client: c.get("/signin/authenticate/")),
            queries(lambda c=client: enter_password(c, "Wrong-password-123!")),
        )
    assert costs["nobody@nowhere.example"] == costs["alice@acme.example"], costs
