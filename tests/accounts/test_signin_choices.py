"""Accounts that allow Single Sign On or a password: the choice between them, and what a sign-in
that was under way can no longer do once the user is deactivated.

Driven only through the sign-in URLs, as a browser would.
"""

import pytest
from django.test import Client

from accounts.models import AuditEvent, LockoutCounter, MitelAccount, User
from tests.factories import MembershipFactory
from tests.signin import (
    DEMO_PASSWORD,
    choose_account,
    enter_password,
    enter_username,
    post_step,
    stay_signed_in,
)

pytestmark = pytest.mark.django_db

ERIN = "erin@contoso.example"  # Contoso: Entra ID, and passwords allowed
ALICE = "alice@acme.example"  # Acme: passwords only


def signed_in_user_id(client: Client) -> int | None:
    value = client.session.get("_auth_user_id")
    return int(value) if value is not None else None


def page(response) -> str:
    return response.content.decode()


def choose_password(client: Client):
    enter_username(client, ERIN)
    offered = client.get("/signin/authenticate/")
    assert "Single Sign On" in page(offered) and "Enter your password" in page(offered)
    response = post_step(client, "authenticate", action="password")
    assert response["Location"] == "/signin/authenticate/"
    return client.get("/signin/authenticate/")


def test_a_user_who_chooses_the_password_is_asked_for_it_and_may_go_back(client, demo):
    password_page = choose_password(client)
    assert 'name="password"' in page(password_page)
    assert "Use Single Sign On instead" in page(password_page)


def test_a_user_who_chooses_the_password_signs_in_with_it(client, demo):
    choose_password(client)
    response = enter_password(client, DEMO_PASSWORD)
    assert response["Location"] == "/signin/stay/"
    assert stay_signed_in(client)["Location"] == "/me/"
    assert signed_in_user_id(client) == demo[ERIN].pk
    event = AuditEvent.objects.filter(kind=AuditEvent.Kind.SIGN_IN, user=demo[ERIN]).get()
    assert event.method == "password"


def test_a_wrong_password_after_choosing_the_password_is_refused_and_counted(client, demo):
    choose_password(client)
    response = enter_password(client, "not the password")
    assert response.status_code == 200 and "The username or password is incorrect." in page(response)
    assert LockoutCounter.objects.get(scope="username", key=ERIN).failures == 1
    assert signed_in_user_id(client) is None


def test_going_back_to_single_sign_on_checks_no_password(client, demo):
    choose_password(client)
    response = post_step(client, "authenticate", action="sso")
    assert response["Location"] == "/signin/authenticate/"
    sso_page = client.get("/signin/authenticate/")
    assert "Enter your password" in page(sso_page) and 'name="password"' not in page(sso_page)
    assert not LockoutCounter.objects.filter(username=ERIN).exists()
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.SIGN_IN_FAILED).exists()
    assert signed_in_user_id(client) is None


def test_changing_the_account_forgets_that_the_password_was_chosen(client, demo):
    MembershipFactory(user=demo[ERIN], account=MitelAccount.objects.get(account_number="100001"))
    enter_username(client, ERIN)
    choose_account(client, account="100003")
    post_step(client, "authenticate", action="password")
    assert 'name="password"' in page(client.get("/signin/authenticate/"))
    assert post_step(client, "authenticate", action="change_account")["Location"] == "/signin/account/"
    choose_account(client, account="100003")
    sso_page = client.get("/signin/authenticate/")
    assert "Enter your password" in page(sso_page) and 'name="password"' not in page(sso_page)


def test_pressing_single_sign_on_with_a_password_typed_does_not_sign_in(client, demo):
    choose_password(client)
    response = post_step(client, "authenticate", {"password": DEMO_PASSWORD}, action="sso")
    assert response["Location"] == "/signin/authenticate/"
    assert signed_in_user_id(client) is None
    assert "Enter your password" in page(client.get("/signin/authenticate/"))


def test_a_password_only_account_offers_no_single_sign_on(client, demo):
    enter_username(client, ALICE)
    password_page = client.get("/signin/authenticate/")
    assert 'name="password"' in page(password_page)
    assert "Single Sign On" not in page(password_page)
    response = post_step(client, "authenticate", action="sso")
    assert response.status_code == 200 and 'name="password"' in page(response)
    assert signed_in_user_id(client) is None


def test_a_user_deactivated_during_the_sign_in_is_not_signed_in(client, demo):
    enter_username(client, ALICE)
    assert enter_password(client, DEMO_PASSWORD)["Location"] == "/signin/stay/"
    User.objects.filter(username=ALICE).update(is_active=False)
    response = stay_signed_in(client)
    assert response.status_code == 302 and response["Location"] != "/me/"
    assert signed_in_user_id(client) is None
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.SIGN_IN, user=demo[ALICE]).exists()
    assert client.get("/me/").status_code == 302


def test_a_user_still_active_at_the_end_of_the_sign_in_is_signed_in(client, demo):
    enter_username(client, ALICE)
    assert enter_password(client, DEMO_PASSWORD)["Location"] == "/signin/stay/"
    assert stay_signed_in(client)["Location"] == "/me/"
    assert signed_in_user_id(client) == demo[ALICE].pk
    assert client.get("/me/").status_code == 200
