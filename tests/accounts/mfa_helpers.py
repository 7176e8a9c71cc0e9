"""Helpers for the MFA tests: walk the sign-in flow, compute the code an authenticator app shows."""

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.management.commands.seed_demo import DEMO_PASSWORD
from accounts.models import User
from tests.signin import enter_password, enter_username, flow_id, open_portal_as, post_step  # noqa: F401

TRENT = "trent@acme.example"
ALICE = "alice@acme.example"


def code_for(device: TOTPDevice) -> str:
    """The 6-digit code the user's authenticator app shows now."""
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):0{device.digits}d}"


def wrong_code_for(device: TOTPDevice) -> str:
    return f"{(int(code_for(device)) + 1) % 10**6:06d}"


def trents_device() -> TOTPDevice:
    return TOTPDevice.objects.get(user__username=TRENT, confirmed=True)


def sign_in_with_password(client: Client, username: str, password: str = DEMO_PASSWORD):
    """Username and password; returns the response to the password (its Location is what's next)."""
    response = enter_username(client, username)
    assert response.status_code == 302, response
    return enter_password(client, password)


def enter_code(client: Client, code: str):
    return post_step(client, "code", code=code)


def stay_signed_in(client: Client):
    return post_step(client, "stay", stay="no")


def signed_in_user(client: Client) -> User | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


def verified_device_id(client: Client) -> str | None:
    return client.session.get(DEVICE_ID_SESSION_KEY)
