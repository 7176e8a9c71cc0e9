"""The demo application (/demo-app/): an Authlib client of the portal, over HTTP only."""

import pytest

from tests.signin import turn_on_demo_app

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo_app(provider, settings):
    return turn_on_demo_app(settings, provider)


def test_bob_signs_in_to_the_demo_application_which_shows_his_claims(browser, demo_app):
    page = browser.open("/demo-app/")
    assert "Sign in with Mitel" in page.text
    browser.open("/demo-app/login/")
    assert "<h1>Sign in to Mitel demo application</h1>" in browser.page.text
    page = browser.sign_in("bob@multi.example", account="GLOBEX")
    assert page.url.endswith("/demo-app/") and page.status_code == 200
    assert "Signed in as Bob Baker" in page.text and "Globex Partners (100002)" in page.text
    assert "mitel_roles" in page.text and "pwd" in page.text

    page = browser.open("/demo-app/logout/")
    assert page.url.endswith("/demo-app/") and "Sign in with Mitel" in page.text
    assert browser.session.get(f"{browser.origin}/me/", allow_redirects=False).status_code == 302


def test_the_demo_application_is_off_unless_asked_for(client, settings):
    settings.DEMO_APP = False
    assert client.get("/demo-app/").status_code == 404
    assert client.get("/demo-app/login/").status_code == 404
