"""Sessions across applications: prompt, max_age, a second application, refresh token rotation."""

import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.utils import timezone

from accounts.models import Application, User

from .conftest import SECRET, RelyingParty

pytestmark = pytest.mark.django_db(transaction=True)


def query_of(url: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def signed_in(browser, rp: RelyingParty, username: str = "alice@acme.example", **signin) -> dict:
    browser.open(rp.authorize_url())
    browser.sign_in(username, **signin)
    return rp.exchange(browser.location)


def test_prompt_none_without_a_session_answers_login_required_without_a_page(browser, provider,
                                                                              confidential_app):
    rp = RelyingParty(provider, confidential_app, SECRET)
    browser.open(rp.authorize_url(prompt="none"))
    answer = query_of(browser.location)
    assert browser.location.startswith(rp.redirect_uri)
    assert answer["error"] == "login_required" and answer["state"] == rp.state


def test_prompt_none_with_a_session_issues_a_code_silently(browser, provider, confidential_app):
    rp = RelyingParty(provider, confidential_app, SECRET)
    signed_in(browser, rp)
    again = RelyingParty(provider, confidential_app, SECRET)
    browser.open(again.authorize_url(prompt="none"))
    claims = again.id_token_claims(again.exchange(browser.location))
    assert claims["preferred_username"] == "alice@acme.example"


def test_prompt_none_where_consent_is_still_needed_answers_consent_required(
        browser, provider, confidential_app, public_app):
    signed_in(browser, RelyingParty(provider, confidential_app, SECRET))
    rp = RelyingParty(provider, public_app)
    browser.open(rp.authorize_url(prompt="none"))
    assert query_of(browser.location)["error"] == "consent_required"


def test_a_second_application_signs_in_without_a_password(browser, provider, confidential_app):
    signed_in(browser, RelyingParty(provider, confidential_app, SECRET), "bob@multi.example",
              account="GLOBEX")
    Application.objects.create(slug="second", name="Second", home_url="https://two.mitel.example/",
                               client_secret=SECRET, redirect_uris="https://two.mitel.example/cb",
                               skip_authorization=True)
    second = RelyingParty(provider, Application.objects.get(slug="second"), SECRET)
    browser.open(second.authorize_url())
    claims = second.id_token_claims(second.exchange(browser.location))  # no page in between
    assert claims["preferred_username"] == "bob@multi.example"
    assert claims["mitel_account"]["number"] == "100002"  # the account the session chose


def test_prompt_login_asks_for_the_password_again(browser, provider, confidential_app):
    rp = RelyingParty(provider, confidential_app, SECRET)
    first = rp.id_token_claims(signed_in(browser, rp))
    time.sleep(1.1)
    again = RelyingParty(provider, confidential_app, SECRET)
    browser.open(again.authorize_url(prompt="login"))
    assert "/signin/" in browser.page.url and 'value="alice@acme.example"' in browser.page.text
    browser.sign_in("alice@acme.example")
    claims = again.id_token_claims(again.exchange(browser.location))
    assert claims["auth_time"] > first["auth_time"] and claims["sid"] != first["sid"]


def test_max_age_older_than_the_sign_in_asks_again_and_a_recent_one_does_not(browser, provider,
                                                                               confidential_app):
    signed_in(browser, RelyingParty(provider, confidential_app, SECRET))
    recent = RelyingParty(provider, confidential_app, SECRET)
    browser.open(recent.authorize_url(max_age="600"))
    assert browser.location.startswith(recent.redirect_uri)
    time.sleep(2.1)
    stale = RelyingParty(provider, confidential_app, SECRET)
    browser.open(stale.authorize_url(max_age="1"))
    assert "/signin/" in browser.page.url
    browser.sign_in("alice@acme.example")
    claims = stale.id_token_claims(stale.exchange(browser.location))
    assert time.time() - claims["auth_time"] < 5


def refresh_works(rp: RelyingParty, token: dict) -> bool:
    return requests.post(rp.config["token_endpoint"], auth=(rp.client_id, SECRET), timeout=10, data={
        "grant_type": "refresh_token", "refresh_token": token["refresh_token"]}).status_code == 200


@pytest.mark.parametrize("ask", [{"prompt": "login"}, {"max_age": "1"}])
def test_asking_for_a_fresh_proof_revokes_the_old_sessions_tokens(browser, provider,
                                                                  confidential_app, ask):
    rp = RelyingParty(provider, confidential_app, SECRET)
    old = signed_in(browser, rp)
    time.sleep(2.1)
    again = RelyingParty(provider, confidential_app, SECRET)
    browser.open(again.authorize_url(**ask))
    assert "/signin/" in browser.page.url
    assert not refresh_works(rp, old)  # ended with the session, before any new sign-in
    browser.sign_in("alice@acme.example")
    assert refresh_works(again, again.exchange(browser.location))


def test_refresh_tokens_rotate_and_reusing_one_revokes_the_family(browser, provider,
                                                                   confidential_app):
    rp = RelyingParty(provider, confidential_app, SECRET)
    token = signed_in(browser, rp)

    def refresh(refresh_token: str) -> requests.Response:
        return requests.post(rp.config["token_endpoint"], auth=(rp.client_id, SECRET), timeout=10,
                             data={"grant_type": "refresh_token", "refresh_token": refresh_token})

    rotated = refresh(token["refresh_token"])
    assert rotated.status_code == 200
    newer = rotated.json()
    assert newer["refresh_token"] != token["refresh_token"]
    reused = refresh(token["refresh_token"])
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    assert refresh(newer["refresh_token"]).status_code == 400  # the whole family is revoked
    userinfo = requests.get(rp.config["userinfo_endpoint"], timeout=10,
                            headers={"Authorization": f"Bearer {newer['access_token']}"})
    assert userinfo.status_code == 401


def test_a_refreshed_id_token_keeps_the_account_and_method(browser, provider, confidential_app):
    rp = RelyingParty(provider, confidential_app, SECRET)
    browser.open(rp.authorize_url())
    browser.sign_in("bob@multi.example", account="100002")
    token = rp.exchange(browser.location)
    # Bob signs in on another device an hour later: his last_login moves on, this sign-in's time stays.
    User.objects.filter(username="bob@multi.example").update(last_login=timezone.now() + timedelta(hours=1))
    refreshed = rp.client.refresh_token(rp.config["token_endpoint"],
                                        refresh_token=token["refresh_token"])
    first, again = rp.id_token_claims(token), rp.id_token_claims(refreshed, refreshed=True)
    assert again["mitel_account"]["number"] == "100002"
    assert ({name: again[name] for name in ("amr", "acr", "sid", "auth_time")}
            == {name: first[name] for name in ("amr", "acr", "sid", "auth_time")})
    userinfo = requests.get(rp.config["userinfo_endpoint"], timeout=10,
                            headers={"Authorization": f"Bearer {refreshed['access_token']}"}).json()
    assert userinfo["mitel_account"]["number"] == "100002"


def test_a_refreshed_access_token_whose_own_refresh_token_is_deleted_still_names_the_account(
        browser, provider, confidential_app):
    """The refresh token issued beside an access token is deleted (by hand, in the database): the
    access token still works until it expires, and userinfo finds its sign-in through the refresh
    token it was issued from."""
    from oauth2_provider.models import get_refresh_token_model

    rp = RelyingParty(provider, confidential_app, SECRET)
    token = signed_in(browser, rp, "bob@multi.example", account="100002")
    refreshed = rp.client.refresh_token(rp.config["token_endpoint"], refresh_token=token["refresh_token"])
    deleted, _ = get_refresh_token_model().objects.filter(revoked=None).delete()  # the new one
    assert deleted == 1
    userinfo = requests.get(rp.config["userinfo_endpoint"], timeout=10,
                            headers={"Authorization": f"Bearer {refreshed['access_token']}"})
    assert userinfo.status_code == 200
    assert userinfo.json()["mitel_account"]["number"] == "100002"
