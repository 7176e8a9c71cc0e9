"""The sign-in page: it stores nothing, and the flow its form starts keeps the link's parameters."""

import re

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import AuditEvent
from tests.factories import PASSWORD, ApplicationFactory, MembershipFactory

FLOW = re.compile(r'name="flow" value="([^"]+)"')


def flow_id(response) -> str:
    return FLOW.search(response.content.decode()).group(1)


@pytest.mark.django_db
def test_the_sign_in_page_writes_nothing_to_the_database(client):
    app = ApplicationFactory()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/signin/?app={app.slug}")
    assert response.status_code == 200
    assert f"Sign in to {app.name}" in response.content.decode()
    assert [q["sql"].split()[0] for q in queries.captured_queries] == ["SELECT"]  # the application
    assert Session.objects.count() == 0
    assert "sessionid" not in response.cookies


@pytest.mark.django_db
def test_next_on_the_page_starts_the_flow_with_the_links_application_and_destination(client):
    app = ApplicationFactory(redirect_urls="https://app-x.mitel.example/")
    user = MembershipFactory().user
    link = f"/signin/?app={app.slug}&next=https://app-x.mitel.example/inbox&login_hint={user.username}"
    page = client.get(link)
    assert user.username in page.content.decode()  # the hint pre-fills the field

    response = client.post(link, {"username": user.username, "flow": flow_id(page)})
    assert response.status_code == 302 and response["Location"] == "/signin/authenticate/"
    password_page = client.get("/signin/authenticate/")
    assert f"Sign in to {app.name}" in password_page.content.decode()
    flow = flow_id(password_page)
    assert client.post("/signin/authenticate/", {"password": PASSWORD, "flow": flow})[
        "Location"] == "/signin/stay/"
    done = client.post("/signin/stay/", {"stay": "yes", "flow": flow})

    assert done.status_code == 302 and done["Location"] == "https://app-x.mitel.example/inbox"
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.SIGN_IN)
    assert event.user == user and event.application == app


@pytest.mark.django_db
def test_a_page_opened_mid_flow_does_not_disturb_the_flow_until_its_form_is_sent(client):
    app = ApplicationFactory()
    user = MembershipFactory().user
    page = client.get(f"/signin/?app={app.slug}")
    client.post(f"/signin/?app={app.slug}", {"username": user.username, "flow": flow_id(page)})
    in_progress = flow_id(client.get("/signin/authenticate/"))

    client.get(f"/signin/?app={app.slug}")  # another tab

    password_page = client.get("/signin/authenticate/")
    assert password_page.status_code == 200 and flow_id(password_page) == in_progress
