"""Times in the viewer's own time zone, as the browser reports it (mitel_portal TimezoneMiddleware)."""

from datetime import UTC, datetime

import pytest

from tests.portal.conftest import open_portal_as, text_of

pytestmark = pytest.mark.django_db

LAST_LOGIN = datetime(2026, 11, 30, 14, 12, tzinfo=UTC)


@pytest.fixture
def alice(client, demo):
    user = demo["alice@acme.example"]
    open_portal_as(client, user)  # signing in sets last_login: the time under test comes after
    user.last_login = LAST_LOGIN
    user.save(update_fields=["last_login"])
    return user


def test_times_are_shown_in_the_zone_the_browser_reported_and_kept_in_the_session(client, alice):
    client.cookies["mitel_tz"] = "Europe/Paris"
    assert "30 Nov 2026, 15:12 CET" in text_of(client.get("/me/"))
    assert client.session["timezone"] == "Europe/Paris"
    del client.cookies["mitel_tz"]
    assert "30 Nov 2026, 15:12 CET" in text_of(client.get("/me/"))


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "../../etc/passwd", "Europe/Paris\x00", "x" * 300])
def test_a_zone_zoneinfo_does_not_know_is_ignored_and_times_stay_in_utc(client, alice, zone):
    client.cookies["mitel_tz"] = zone
    page = text_of(client.get("/me/"))
    assert "30 Nov 2026, 14:12 UTC" in page
    assert "timezone" not in client.session


def test_the_script_that_reports_the_zone_is_on_every_page(client, demo):
    open_portal_as(client, demo["grace@acme.example"])
    for url in ("/me/", "/admin/accounts/user/", "/password/change/"):
        assert "/static/js/timezone.js" in text_of(client.get(url)), url


def test_the_connect_portals_lists_show_times_in_the_viewers_zone(client, demo):
    grace = demo["grace@acme.example"]
    open_portal_as(client, grace)
    grace.last_login = LAST_LOGIN
    grace.save(update_fields=["last_login"])
    client.cookies["mitel_tz"] = "America/New_York"
    page = text_of(client.get("/admin/accounts/user/"))
    assert "30 Nov 2026, 09:12 EST" in page


@pytest.mark.parametrize(("language", "shown"), [
    ("fr", "30 Nov 2026, 15:12 CET"), ("de", "30. Nov 2026, 15:12 CET"), ("es", "30 Nov 2026, 15:12 CET"),
    ("it", "30 Nov 2026, 15:12 CET"), ("nl", "30 Nov 2026, 15:12 CET")])
def test_every_language_names_the_zone_of_the_times_it_shows(client, alice, language, shown):
    client.cookies["mitel_tz"] = "Europe/Paris"
    client.cookies["mitel_language"] = language
    assert shown in text_of(client.get("/me/"))
