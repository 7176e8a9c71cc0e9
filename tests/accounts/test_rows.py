"""``accounts.rows.insert`` writes the row ``Model.save(force_insert=True)`` writes (issue 17: the
audit trail's events are inserted this way)."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.forms.models import model_to_dict

from accounts.models import AuditEvent, LockoutCounter, MitelAccount, User
from accounts.rows import insert

pytestmark = pytest.mark.django_db


def event(user: User, account: MitelAccount) -> AuditEvent:
    return AuditEvent(kind=AuditEvent.Kind.LOCKED_OUT, user=user, actor=user, account=account,
                      username="rows@acme.example", method="password", ip_address="2001:db8::1",
                      user_agent="Browser/1.0 «»", detail={"lock": "username", "n": [1, None, "é"]})


def stored(pk: int) -> dict:
    return {k: v for k, v in model_to_dict(AuditEvent.objects.get(pk=pk)).items() if k != "id"}


def test_an_inserted_row_is_the_row_save_writes():
    user = User.objects.create(username="rows@acme.example")
    account = MitelAccount.objects.create(name="Rows Ltd")
    by_save, by_insert = event(user, account), event(user, account)
    by_insert.created_at = by_save.created_at
    by_save.save(force_insert=True)

    assert insert(by_insert) is by_insert
    assert isinstance(by_insert.pk, int) and by_insert.pk != by_save.pk
    assert stored(by_insert.pk) == stored(by_save.pk)
    assert not by_insert._state.adding and by_insert._state.db == "default"


def test_defaults_and_an_explicit_key_are_written_as_given():
    row = insert(AuditEvent(kind=AuditEvent.Kind.SIGN_IN))
    assert AuditEvent.objects.get(pk=row.pk).detail == {} and row.created_at is not None
    chosen = insert(LockoutCounter(pk=4242, scope="username", key="k", username="k"))
    assert chosen.pk == 4242
    assert LockoutCounter.objects.get(pk=4242).failures == 0


def test_a_failed_insert_in_a_transaction_rolls_it_back_as_save_would():
    insert(LockoutCounter(pk=7, scope="username", key="k", username="k"))
    with pytest.raises(DatabaseError), transaction.atomic():
        insert(LockoutCounter(pk=7, scope="username", key="again", username="k"))  # the key is taken
    assert list(LockoutCounter.objects.values_list("key", flat=True)) == ["k"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite does not enforce lengths")
def test_a_value_too_long_fails_as_in_save():
    with pytest.raises(DatabaseError):
        insert(AuditEvent(kind="x" * 33))
