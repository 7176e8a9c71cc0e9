"""Someone taken out of a Mitel account: the tokens that name that account end with the membership.

A token names the account chosen in the sign-in (``mitel_account``). Taking a person out of the
account ends their sessions, and those sessions' tokens with them; but a sign-in's tokens outlive a
browser session that simply expired, and a membership can go with its account. Either way, an
application must not go on receiving, on every refresh, an account the person no longer belongs to.
"""

import pytest
import requests
from django.contrib.sessions.models import Session

from accounts.models import Membership, MitelAccount, User
from accounts.services.memberships import remove_membership

from .conftest import SECRET, RelyingParty

pytestmark = pytest.mark.django_db(transaction=True)


def signed_in(browser, rp: RelyingParty, account: str) -> dict:
    browser.open(rp.authorize_url())
    browser.sign_in("bob@multi.example", account=account)
    return rp.exchange(browser.location)


def refresh(rp: RelyingParty, token: dict) -> requests.Response:
    return requests.post(rp.config["token_endpoint"], auth=(rp.client_id, SECRET), timeout=10,
                         data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]})


def userinfo(rp: RelyingParty, token: dict) -> requests.Response:
    return requests.get(rp.config["userinfo_endpoint"], timeout=10,
                        headers={"Authorization": f"Bearer {token['access_token']}"})


@pytest.fixture
def two_sign_ins(provider, confidential_app):
    """Bob signed in to the application twice, in two browsers: once to Globex, once to Acme."""
    from .http import Browser

    globex_rp, acme_rp = (RelyingParty(provider, confidential_app, SECRET) for _ in range(2))
    globex = signed_in(Browser(provider), globex_rp, "100002")
    acme = signed_in(Browser(provider), acme_rp, "100001")
    assert userinfo(globex_rp, globex).json()["mitel_account"]["number"] == "100002"
    return (globex_rp, globex), (acme_rp, acme)


def assert_ended(rp: RelyingParty, token: dict) -> None:
    refused = refresh(rp, token)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    assert userinfo(rp, token).status_code == 401


def assert_still_acme(rp: RelyingParty, token: dict) -> None:
    refreshed = refresh(rp, token)
    assert refreshed.status_code == 200
    assert userinfo(rp, refreshed.json()).json()["mitel_account"]["number"] == "100001"


def test_a_member_removed_after_their_session_expired_gets_no_more_tokens_for_the_account(
        two_sign_ins):
    (globex_rp, globex), (acme_rp, acme) = two_sign_ins
    Session.objects.all().delete()  # both browser sessions expired and were cleared, no sign-out
    bob = User.objects.get(username="bob@multi.example")
    membership = Membership.objects.get(user=bob, account__account_number="100002")
    remove_membership(membership, acting_user=User.objects.get(username="admin@mitel.example"))

    assert_ended(globex_rp, globex)
    assert_still_acme(acme_rp, acme)  # the account he still belongs to goes on


def test_a_membership_deleted_with_its_account_ends_the_accounts_tokens(two_sign_ins):
    (globex_rp, globex), (acme_rp, acme) = two_sign_ins
    Session.objects.all().delete()
    MitelAccount.objects.get(account_number="100002").delete()

    assert_ended(globex_rp, globex)
    assert_still_acme(acme_rp, acme)


def test_a_membership_deleted_in_a_transaction_that_fails_ends_nothing(two_sign_ins):
    from django.db import transaction

    (globex_rp, globex), _ = two_sign_ins
    Session.objects.all().delete()
    with pytest.raises(RuntimeError), transaction.atomic():
        Membership.objects.filter(account__account_number="100002").delete()
        raise RuntimeError("the removal is rolled back")

    refreshed = refresh(globex_rp, globex)
    assert refreshed.status_code == 200
    assert userinfo(globex_rp, refreshed.json()).json()["mitel_account"]["number"] == "100002"
