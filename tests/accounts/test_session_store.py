"""The session store's own writes (accounts.sessions): one INSERT or UPDATE a save, errors as
Django's database store reports them."""

from collections import Counter

import pytest
from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError, UpdateError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import LockoutCounter, UserSession
from accounts.sessions import SessionStore, new_key

pytestmark = pytest.mark.django_db

ON_POSTGRES = connection.vendor == "postgresql"


def saved(data: dict) -> SessionStore:
    session = SessionStore()
    session.update(data)
    session.save()
    return session


def test_a_new_session_is_one_row_holding_its_data():
    session = saved({"flow": "a"})
    row = UserSession.objects.get()
    assert row.session_key == session.session_key
    assert SessionStore(session.session_key).load() == {"flow": "a"}


@pytest.mark.django_db(transaction=True)  # in autocommit, as a request saves its session
def test_a_key_that_clashes_is_refused_and_create_draws_another(monkeypatch):
    first = saved({"flow": "a"})
    keys = iter([first.session_key, "x" * 32])
    second = SessionStore()
    monkeypatch.setattr(second, "_get_new_session_key", lambda: next(keys))
    second["flow"] = "b"
    with pytest.raises(CreateError):
        second._session_key = first.session_key
        second.save(must_create=True)
    second._session_key = None
    second.create()
    assert second.session_key == "x" * 32
    assert SessionStore(first.session_key).load() == {"flow": "a"}  # not overwritten


def test_a_saved_session_is_updated_in_place():
    session = saved({"flow": "a"})
    session["flow"] = "b"
    session.save()
    assert UserSession.objects.count() == 1
    assert SessionStore(session.session_key).load() == {"flow": "b"}


def test_a_session_ended_meanwhile_is_not_written_again():
    session = saved({"flow": "a"})
    UserSession.objects.all().delete()
    session["flow"] = "b"
    with pytest.raises(UpdateError):
        session.save()
    assert not UserSession.objects.exists()


def test_a_new_key_moves_the_row_and_the_old_key_opens_nothing():
    session = saved({"flow": "a"})
    old = session.session_key
    session.cycle_key()
    session.save()
    assert list(UserSession.objects.values_list("session_key", flat=True)) == [session.session_key]
    assert session.session_key != old
    assert SessionStore(old).load() == {}


def test_a_new_key_for_a_row_that_is_gone_is_inserted():
    session = saved({"flow": "a"})
    UserSession.objects.all().delete()
    session.cycle_key()
    session.save()
    assert list(UserSession.objects.values_list("session_key", flat=True)) == [session.session_key]


def test_keys_are_32_of_the_36_characters_and_all_of_them_are_drawn():
    keys = {new_key() for _ in range(400)}
    assert len(keys) == 400
    assert all(len(key) == 32 and set(key) <= set(VALID_KEY_CHARS) for key in keys)
    # 12,800 characters drawn: each of the 36 comes up about 356 times, and every position varies.
    counts = Counter("".join(keys))
    assert set(counts) == set(VALID_KEY_CHARS)
    assert min(counts.values()) > 250 and max(counts.values()) < 470
    assert all(len({key[i] for key in keys}) > 20 for i in range(32))


def counter(failures: int) -> LockoutCounter:
    return LockoutCounter.objects.create(scope="username", key=f"k{failures}", username="k",
                                         failures=failures)


@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL joins the write to the save's statement")
@pytest.mark.parametrize("cycled", [False, True], ids=["saved in place", "new key"])
def test_a_decrement_is_written_in_the_saves_one_statement(cycled):
    session = saved({"flow": "a"})
    one, none, other = counter(2), counter(0), counter(5)
    if cycled:
        session.cycle_key()
    assert session.save_with_decrement(LockoutCounter, "failures", [one.pk, none.pk])
    with CaptureQueriesContext(connection) as captured:
        session.save()
    assert len(captured) == 1
    assert [c.failures for c in LockoutCounter.objects.order_by("pk")] == [1, 0, 5]
    assert other.pk  # untouched


@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL joins the write to the save's statement")
def test_a_decrement_waits_for_the_save_and_is_not_written_without_it():
    session = saved({"flow": "a"})
    one = counter(2)
    session.save_with_decrement(LockoutCounter, "failures", [one.pk])
    one.refresh_from_db()
    assert one.failures == 2
    UserSession.objects.all().delete()  # the session ended meanwhile: its save fails, writing nothing
    with pytest.raises(UpdateError):
        session.save()
    one.refresh_from_db()
    assert one.failures == 2


@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL joins the write to the save's statement")
def test_a_row_decremented_and_deleted_by_one_save_is_deleted():
    session = saved({"flow": "a"})
    one, kept = counter(2), counter(3)
    session.save_with_decrement(LockoutCounter, "failures", [one.pk, kept.pk])
    session.save_with_delete(LockoutCounter, key=one.key)
    session.save()  # two statements in a transaction: one would apply only one change to the row
    assert list(LockoutCounter.objects.values_list("key", "failures")) == [(kept.key, 2)]


def test_a_decrement_is_refused_where_it_would_cost_a_transaction():
    empty = SessionStore()
    assert not empty.save_with_decrement(LockoutCounter, "failures", [1])  # nothing would be saved
    session = saved({"flow": "a"})
    assert session.save_with_decrement(LockoutCounter, "failures", [1]) is ON_POSTGRES
