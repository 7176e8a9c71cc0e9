"""The session store's own writes (accounts.sessions): one INSERT or UPDATE a save, errors as
Django's database store reports them."""

import pytest
from django.contrib.sessions.backends.base import CreateError, UpdateError

from accounts.models import UserSession
from accounts.sessions import SessionStore

pytestmark = pytest.mark.django_db


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
