"""Helpers of the password tests that read as intent: sign_in(client, username), post_step(...)."""

import smtplib

from django.core.mail.backends.base import BaseEmailBackend
from django.test import Client

from accounts.models import AuditEvent
from tests.signin import enter_password, enter_username, flow_id, post_step  # noqa: F401

DEMO_PASSWORD = "Mitel-demo-2026!"
NEW_PASSWORD = "purple otters sang at noon"


def start_sign_in(client: Client, username: str, password: str = DEMO_PASSWORD):
    """Username, then password: returns the answer to the password (a redirect to the next step)."""
    enter_username(client, username)
    return enter_password(client, password)


def sign_in(client: Client, username: str, password: str = DEMO_PASSWORD) -> None:
    """The whole sign-in of a user with nothing pending (no expiry): signed in, staying signed in."""
    response = start_sign_in(client, username, password)
    assert response["Location"] == "/signin/stay/", response.get("Location")
    response = post_step(client, "stay", stay="yes")
    assert is_signed_in(client)


def is_signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def new_password(password: str = NEW_PASSWORD, again: str | None = None) -> dict:
    return {"new_password1": password, "new_password2": password if again is None else again}


def audit_kinds(user) -> list[str]:
    return list(AuditEvent.objects.filter(user=user).order_by("id").values_list("kind", flat=True))


class BrokenMailBackend(BaseEmailBackend):
    """A mail server that drops the connection on every message."""

    def send_messages(self, messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
