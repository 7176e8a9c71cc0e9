"""Each sign-in step makes a fixed number of queries, whatever the number of users and accounts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Membership, MitelAccount, User
from tests.signin import DEMO_PASSWORD, choose_account, enter_password, enter_username, start
from tests.signin import stay_signed_in as stay

pytestmark = pytest.mark.django_db


def queries_per_step(client) -> dict[str, int]:
    counts = {}

    def measure(name, action):
        with CaptureQueriesContext(connection) as captured:
            action()
        counts[name] = len(captured)

    measure("start", lambda: start(client, app="miteam-meetings"))
    measure("username", lambda: enter_username(client, "bob@multi.example"))
    measure("account page", lambda: client.get("/signin/account/"))
    measure("account", lambda: choose_account(client, typed="GLOBEX"))
    measure("password page", lambda: client.get("/signin/authenticate/"))
    measure("password", lambda: enter_password(client, DEMO_PASSWORD))
    measure("stay", lambda: stay(client))
    return counts


def grow(users: int, accounts: int) -> None:
    """Many more users and accounts, bob in many of them."""
    new_accounts = MitelAccount.objects.bulk_create(
        MitelAccount(account_number=str(500000 + n), name=f"Scale {n}") for n in range(accounts))
    new_users = User.objects.bulk_create(
        User(username=f"scale{n}@example.com", password="!") for n in range(users))
    Membership.objects.bulk_create(
        Membership(user=user, account=new_accounts[n % accounts]) for n, user in enumerate(new_users))
    bob = User.objects.get(username="bob@multi.example")
    Membership.objects.bulk_create(Membership(user=bob, account=a) for a in new_accounts[:20])


def test_queries_per_step_do_not_grow_with_users_and_accounts(client, demo):
    small = queries_per_step(client)
    grow(users=2000, accounts=200)
    client.logout()
    large = queries_per_step(client)
    assert large == small
    assert max(small.values()) <= 30, small  # a ceiling; the guard is the equality above
