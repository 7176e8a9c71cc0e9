"""Helpers that read as intent: drive the sign-in flow with the Django test client."""

from urllib.parse import urlencode

DEMO_PASSWORD = "Mitel-demo-2026!"


def start(client, **params):
    """Open /signin/ as an application's link would (app, next, login_hint, account)."""
    query = f"?{urlencode(params)}" if params else ""
    return client.get(f"/signin/{query}")


def flow_id(client) -> str:
    return client.session["signin_flow"]["flow_id"]


def post_step(client, slug: str, data: dict):
    url = "/signin/" if slug == "username" else f"/signin/{slug}/"
    return client.post(url, {"flow": flow_id(client), **data})


def enter_username(client, username: str, **params):
    if "signin_flow" not in client.session or params:
        start(client, **params)
    return post_step(client, "username", {"username": username})


def enter_password(client, password: str):
    return post_step(client, "authenticate", {"password": password})


def choose_account(client, *, account: str = "", typed: str = ""):
    return post_step(client, "account", {"account": account, "account_number": typed})


def stay_signed_in(client, yes: bool = True):
    return post_step(client, "stay", {"stay": "yes" if yes else "no"})


def sign_in(client, username: str, password: str = DEMO_PASSWORD, *, stay: bool = True, **params):
    """The whole flow for a single-account password user; returns the last response."""
    enter_username(client, username, **params)
    response = enter_password(client, password)
    assert response.status_code == 302, response.content.decode()[:2000]
    return stay_signed_in(client, stay)


def fail_password(client, username: str, times: int = 1, **params):
    response = None
    for _ in range(times):
        enter_username(client, username, **params)
        response = enter_password(client, "not the password at all")
    return response
