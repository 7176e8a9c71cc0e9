"""Each request of the sign-in makes an exact number of queries, whatever the number of users and
accounts (issue 17; ``make bench`` measures the same on PostgreSQL as ``queries_per_step``).

Counted as deployed with Redis: the sign-in flow's sessions are read from the cache
(``SESSION_CACHE_ENABLED``), and so is the application (``accounts.services.applications``), here the
tests' in-process cache. A transaction counts two (``BEGIN`` and ``COMMIT``; a savepoint and its
release inside the test's own transaction). A change that adds a query to any of these requests
fails here: if it is needed, raise the count and say why in the commit.
"""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import Membership, MitelAccount, User
from accounts.services.lockouts import lock_username
from tests.signin import DEMO_PASSWORD, choose_account, enter_password, enter_username, start
from tests.signin import stay_signed_in as stay

pytestmark = pytest.mark.django_db

WRONG = "Wrong-password-2026!"

# A full password sign-in: the page, Next, the password page, the password, the "Stay signed in?"
# page, Yes. The page: nothing (the application is cached, nothing is stored). Next: the user, the
# realm (verified domain), the user's accounts (with the user and their second factors), the new
# session. A page of the flow: the user's accounts. The password: the accounts, the lockout's count
# (one statement makes and reads the counters, one compare-and-set writes the count: no
# transaction), the session under its new key with the count given back (on PostgreSQL one
# statement; elsewhere the count is given back by a statement of its own). Yes: the accounts, and
# the signed-in session saved with its "Signed in" event, last_login and the username's failures
# forgotten: on PostgreSQL one statement (accounts.sessions), elsewhere a transaction of four.
ON_POSTGRES = connection.vendor == "postgresql"
SIGN_IN = {"page": 0, "username": 4, "password_page": 1, "password": 4 if ON_POSTGRES else 5,
           "stay_page": 1, "stay": 2 if ON_POSTGRES else 7}
# The failures: a wrong password (the accounts, the count's two statements, the "failed" event), an
# unknown username (the same queries: SECURITY.md 4), a locked-out username (the accounts, the
# counters read, which show the lock, and the "locked out" event; nothing counted, nothing hashed).
FAILURES = {"password_wrong": 4, "password_unknown": 4, "password_locked_out": 3}


@pytest.fixture(autouse=True)
def cached_sessions(settings):
    settings.SESSION_CACHE_ENABLED = True


def count(action) -> int:
    with CaptureQueriesContext(connection) as captured:
        action()
    return len(captured)


def queries_of_a_sign_in(username: str) -> dict[str, int]:
    client = Client()
    counts = {"page": count(lambda: start(client, app="miteam-meetings"))}
    counts["username"] = count(lambda: enter_username(client, username))
    counts["password_page"] = count(lambda: client.get("/signin/authenticate/"))
    counts["password"] = count(lambda: enter_password(client, DEMO_PASSWORD))
    counts["stay_page"] = count(lambda: client.get("/signin/stay/"))
    counts["stay"] = count(lambda: stay(client))
    assert client.get("/me/").status_code == 200  # signed in
    return counts


def queries_of_failures() -> dict[str, int]:
    counts = {}
    for name, username in (("password_wrong", "carol@acme.example"),
                           ("password_unknown", "nobody@nowhere.example"),
                           ("password_locked_out", "mallory@acme.example")):
        client = Client()
        enter_username(client, username, app="miteam-meetings")
        client.get("/signin/authenticate/")
        counts[name] = count(lambda c=client: enter_password(c, WRONG))
    return counts


def warm_up() -> None:
    """The first request of a process fills the application's cache entry."""
    Client().get("/signin/?app=miteam-meetings")


def test_a_password_sign_in_makes_these_queries_and_no_more(demo):
    warm_up()
    counts = queries_of_a_sign_in("alice@acme.example")
    assert counts == SIGN_IN
    assert sum(counts.values()) <= 20
    assert max(counts.values()) <= (5 if ON_POSTGRES else 7)


def test_failures_make_these_queries_and_no_more(demo):
    warm_up()
    lock_username("mallory@acme.example")
    assert queries_of_failures() == FAILURES


def test_the_second_factor_pages_ask_nothing_more_about_second_factors(demo):
    """Whether the person has an authenticator, backup codes or a passkey comes with their accounts
    (one query): the code page makes that query alone, and the enrolment page, opened again, makes
    it beside the authenticator being set up, and asks again neither."""
    warm_up()
    client = Client()
    enter_username(client, "trent@acme.example", app="miteam-meetings")
    assert enter_password(client, DEMO_PASSWORD)["Location"] == "/signin/code/"
    assert count(lambda: client.get("/signin/code/")) == 1
    MitelAccount.objects.filter(account_number="100001").update(require_mfa=True)
    client = Client()
    enter_username(client, "alice@acme.example", app="miteam-meetings")
    assert enter_password(client, DEMO_PASSWORD)["Location"] == "/signin/mfa-setup/"
    client.get("/signin/mfa-setup/")  # makes the pending authenticator
    assert count(lambda: client.get("/signin/mfa-setup/")) == 3


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


def queries_per_step(client) -> dict[str, int]:
    counts = {}

    def measure(name, action):
        counts[name] = count(action)

    measure("start", lambda: start(client, app="miteam-meetings"))
    measure("username", lambda: enter_username(client, "bob@multi.example"))
    measure("account page", lambda: client.get("/signin/account/"))
    measure("account", lambda: choose_account(client, typed="GLOBEX"))
    measure("password page", lambda: client.get("/signin/authenticate/"))
    measure("password", lambda: enter_password(client, DEMO_PASSWORD))
    measure("stay", lambda: stay(client))
    return counts


def test_queries_per_step_do_not_grow_with_users_and_accounts(demo):
    warm_up()
    small = queries_per_step(Client())
    small_sign_in = queries_of_a_sign_in("alice@acme.example")
    grow(users=2000, accounts=200)
    large = queries_per_step(Client())
    assert large == small
    assert queries_of_a_sign_in("alice@acme.example") == small_sign_in == SIGN_IN


def test_the_memberships_query_compiled_once_loads_what_the_queryset_loads(demo):
    from signin.flow import memberships_of, memberships_with_second_factors

    def seen(memberships):
        return [(m.pk, m.account.name, m.user.username, m.has_authenticator_, m.has_backup_codes_,
                 m.has_passkey_, m.user is memberships[0].user) for m in memberships]

    users = list(User.objects.all()) + [User(pk=0)]
    for user in users:
        expected = seen(list(memberships_with_second_factors().filter(user_id=user.pk)))
        with CaptureQueriesContext(connection) as captured:
            loaded = memberships_of(user.pk)
            assert seen(loaded) == expected
        assert len(captured) == 1
    assert any(seen(memberships_of(user.pk)) for user in users)  # some users have accounts
    bob = demo["bob@multi.example"]
    assert len(memberships_of(bob.pk)) > 1
