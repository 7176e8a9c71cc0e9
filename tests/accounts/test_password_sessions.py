"""Sessions that know their user, so a password change can end the user's other sessions at once."""

import pytest
from django.contrib.sessions.backends.base import SessionBase
from django.test import Client

from accounts.models import UserSession
from accounts.sessions import SessionStore, end_sessions
from tests.factories import UserFactory


def signed_in_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_the_session_engine_records_the_user_of_each_session():
    alice, bob = UserFactory(), UserFactory()
    alice_client, bob_client = signed_in_client(alice), signed_in_client(bob)
    assert UserSession.objects.get(session_key=alice_client.session.session_key).user_id == alice.pk
    assert UserSession.objects.get(session_key=bob_client.session.session_key).user_id == bob.pk


@pytest.mark.django_db
def test_a_rotated_session_key_keeps_its_user():
    alice = UserFactory()
    session = SessionStore(signed_in_client(alice).session.session_key)
    old_key = session.session_key
    session.cycle_key()
    session.save()
    assert not UserSession.objects.filter(session_key=old_key).exists()
    assert UserSession.objects.get(session_key=session.session_key).user_id == alice.pk


@pytest.mark.django_db
def test_sessions_without_a_signed_in_user_belong_to_nobody(client):
    client.post("/signin/", {"username": "someone@acme.example", "flow": ""})  # a flow, no user yet
    assert UserSession.objects.get().user_id is None


@pytest.mark.django_db
def test_ending_a_users_sessions_keeps_the_one_asked_for_and_other_users():
    alice, bob = UserFactory(), UserFactory()
    here, phone, laptop, bobs = (signed_in_client(alice), signed_in_client(alice),
                                 signed_in_client(alice), signed_in_client(bob))
    assert end_sessions(alice, keep=here.session.session_key) == 2
    assert "_auth_user_id" in here.session and "_auth_user_id" in bobs.session
    assert "_auth_user_id" not in phone.session and "_auth_user_id" not in laptop.session
    assert end_sessions(alice) == 1


def test_the_store_is_djangos_database_store():
    assert issubclass(SessionStore, SessionBase)
    assert SessionStore.get_model_class() is UserSession
