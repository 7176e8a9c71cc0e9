"""The demo application in Chromium: sign in through the portal, back to the claims; axe clean."""

import re

import pytest

from tests.signin import DEMO_PASSWORD, turn_on_demo_app


@pytest.fixture
def demo_app(site, settings):
    return turn_on_demo_app(settings, site)


def test_alice_signs_in_to_the_demo_application_and_sees_her_claims(open_browser, demo_app):
    alice = open_browser(folder="journeys")
    alice.goto("/demo-app/")
    assert alice.heading() == "Demo application"
    alice.check("demo app 1 nobody signed in")
    alice.page.get_by_role("link", name="Sign in with Mitel").click()
    alice.page.wait_for_url(re.compile(r"/signin/\?app=demo-app"))
    assert alice.heading() == "Sign in to Mitel demo application"
    alice.page.get_by_label("Username").fill("alice@acme.example")
    alice.page.get_by_role("button", name="Next").click()
    alice.page.wait_for_url(re.compile("/signin/authenticate/"))
    alice.page.get_by_label("Password").fill(DEMO_PASSWORD)
    alice.page.get_by_role("button", name="Sign in").click()
    alice.page.wait_for_url(re.compile("/signin/stay/"))
    alice.page.get_by_role("button", name="No").click()
    alice.page.wait_for_url(re.compile(r"/demo-app/$"))
    assert alice.heading() == "Signed in as Alice Archer"
    main = alice.page.locator("main").inner_text()
    assert "Acme Dental (100001)" in main and "preferred_username" in main
    alice.check("demo app 2 the claims it received")

    alice.page.get_by_role("link", name="Sign out").click()
    alice.page.wait_for_url(re.compile(r"/demo-app/$"))
    assert alice.heading() == "Demo application"
