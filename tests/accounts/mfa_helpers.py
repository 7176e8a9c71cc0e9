"""Helpers for the MFA tests: walk the sign-in flow, compute the code an authenticator app shows."""

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.management.commands.seed_demo import DEMO_PASSWORD
from accounts.models import User

TRENT = "trent@acme.example"
ALICE = "alice@acme.example"


def code_for(device: TOTPDevice) -> str:
    """The 6-digit code the user's authenticator app shows now."""
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):0{device.digits}d}"


def wrong_code_for(device: TOTPDevice) -> str:
    return f"{(int(code_for(device)) + 1) % 10**6:06d}"


def trents_device() -> TOTPDevice:
    return TOTPDevice.objects.get(user__username=TRENT, confirmed=True)


from tests.signin import flow_id  # noqa: E402


def post_step(client: Client, slug: str, **data):
    return client.post(f"/signin/{slug}/", {"flow": flow_id(client), **data})


def sign_in_with_password(client: Client, username: str, password: str = DEMO_PASSWORD):
    """Username and password; returns the response to the password (its Location is what's next)."""
    client.get("/signin/")
    response = client.post("/signin/", {"username": username, "flow": ""})
    assert response.status_code == 302, response
    return post_step(client, "authenticate", password=password)


def enter_code(client: Client, code: str):
    return post_step(client, "code", code=code)


def stay_signed_in(client: Client):
    return post_step(client, "stay", stay="no")


def signed_in_user(client: Client) -> User | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


def verified_device_id(client: Client) -> str | None:
    return client.session.get(DEVICE_ID_SESSION_KEY)


def sign_in_to_portal(client: Client, user: User, device=None) -> None:
    """A session as the sign-in flow leaves it: logged in, and verified with ``device`` if given."""
    client.force_login(user)
    if device is not None:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
