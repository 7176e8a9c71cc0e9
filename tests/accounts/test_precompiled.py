"""Look-ups compiled once (accounts.precompiled) load what their querysets load, one query each."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Domain, MitelAccount, User
from accounts.precompiled import Precompiled
from accounts.services import domains

pytestmark = pytest.mark.django_db


def fields(instance) -> dict:
    """Every field's value as loaded (converters included: SQLite hands back text for dates)."""
    return {name: value for name, value in vars(instance).items() if name != "_state"}


def one_query(call):
    with CaptureQueriesContext(connection) as captured:
        result = call()
    assert len(captured) == 1
    return result


def test_a_look_up_gives_what_its_queryset_gives_for_every_value(demo):
    by_name = Precompiled(lambda name: MitelAccount.objects.filter(name=name).order_by("pk"), "\x1f")
    names = [*MitelAccount.objects.values_list("name", flat=True), "No such account"]
    for name in names * 2:  # the second time from the compiled SQL
        expected = list(MitelAccount.objects.filter(name=name).order_by("pk"))
        loaded = one_query(lambda: by_name(name))  # noqa: B023 - called at once
        assert [fields(a) for a in loaded] == [fields(a) for a in expected]
    assert by_name(names[0]) and not by_name("No such account")


def test_a_look_up_is_compiled_once_per_database(demo, monkeypatch):
    by_name = Precompiled(lambda name: MitelAccount.objects.filter(name=name), "\x1f")
    by_name("Acme Dental")

    def compiled_again(using):
        raise AssertionError("compiled again")

    monkeypatch.setattr(by_name, "_compile", compiled_again)
    assert [a.name for a in by_name("Acme Dental")] == ["Acme Dental"]


def test_a_look_ups_converters_are_worked_out_once_per_connection(demo, monkeypatch):
    """The converters turn the row's values into Python (datetimes, JSON, booleans); asked for
    once, as the SQL, they still turn every later row."""
    from django.db.models.sql.compiler import SQLCompiler

    by_name = Precompiled(lambda name: MitelAccount.objects.filter(name=name), "\x1f")
    calls = []
    real = SQLCompiler.get_converters

    def counted(compiler, expressions):
        calls.append(compiler.connection)
        return real(compiler, expressions)

    monkeypatch.setattr(SQLCompiler, "get_converters", counted)
    expected = MitelAccount.objects.get(name="Acme Dental")
    calls.clear()
    for _ in range(3):
        [found] = by_name("Acme Dental")
        assert [getattr(found, f.attname) for f in MitelAccount._meta.concrete_fields] == [
            getattr(expected, f.attname) for f in MitelAccount._meta.concrete_fields]
    assert len(calls) == 1


def test_the_verified_domain_of_a_username_with_its_account(demo):
    account = MitelAccount.objects.order_by("pk").first()
    other = MitelAccount.objects.order_by("pk").last()
    Domain.objects.create(account=account, name="realm.example", token="t1",
                          verified_at=timezone.now(), verified_by="dns")
    Domain.objects.create(account=other, name="claimed.example", token="t2")  # not verified
    realm = one_query(lambda: domains.realm_of("someone@Realm.Example"))
    assert realm.name == "realm.example" and realm.account == account
    assert realm.account.name == account.name  # loaded with it: no second query
    assert one_query(lambda: domains.realm_of("someone@claimed.example")) is None
    assert one_query(lambda: domains.realm_of("someone@elsewhere.example")) is None
    with CaptureQueriesContext(connection) as captured:
        assert domains.realm_of("no-domain") is None
    assert not captured


def test_the_user_id_of_a_username(demo):
    from signin.flow import _user_id_of

    alice = User.objects.get(username="alice@acme.example")
    assert [u.pk for u in one_query(lambda: _user_id_of("alice@acme.example"))] == [alice.pk]
    assert one_query(lambda: _user_id_of("nobody@acme.example")) == []


def test_a_queryset_that_changes_its_value_is_refused(demo):
    # The username field makes every value canonical: a placeholder it would change is not found
    # in the compiled parameters, so the look-up refuses to run rather than look up something else.
    changed = Precompiled(lambda username: User.objects.filter(username=username), " Changed ")
    with pytest.raises(ValueError):
        changed("alice@acme.example")


@pytest.mark.postgres
def test_postgresql_plans_the_sign_ins_look_ups_once_per_connection(demo):
    # Server-side binding with prepared statements (settings: DATABASE_PREPARED_STATEMENTS):
    # planning the memberships query cost three times running it.
    from signin.flow import memberships_of

    alice = User.objects.get(username="alice@acme.example")
    for _ in range(6):  # psycopg prepares a query from its fifth run on a connection
        memberships_of(alice.pk)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements "
                       "WHERE statement LIKE %s", ["%FROM \"accounts_membership\"%"])
        (prepared,) = cursor.fetchone()
    assert prepared >= 1
