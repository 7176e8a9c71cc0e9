"""Helpers that read as intent: drive the sign-in flow with the Django test client."""

from urllib.parse import urlencode

DEMO_PASSWORD = "Mitel-demo-2026!"


def start(client, **params):
    """Open /signin/ as an application's link would (app, next, login_hint, account).

    The page stores nothing; its form posts back to the same URL, so the link is remembered here.
    """
    client.signin_query = f"?{urlencode(params)}" if params else ""
    return client.get(f"/signin/{client.signin_query}")


def flow_id(client) -> str:
    flow = client.session.get("signin_flow")
    return flow["flow_id"] if flow else ""


def post_step(client, slug: str, data: dict | None = None, **fields):
    """POST to the step at ``/signin/<slug>/`` with the flow's id, ``data`` and ``fields``."""
    url = "/signin/" if slug == "username" else f"/signin/{slug}/"
    return client.post(url, {"flow": flow_id(client), **(data or {}), **fields})


def enter_username(client, username: str, **params):
    """Next on the link's page (the last ``start``, or a new one with ``params``): a new flow."""
    if params or not hasattr(client, "signin_query"):
        start(client, **params)
    return client.post(f"/signin/{client.signin_query}", {"flow": "", "username": username})


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


def open_portal_as(client, user, *, otp_device=None):
    """A session as the sign-in flow leaves it: ``user`` logged in, OTP-verified with ``otp_device``."""
    from django_otp import DEVICE_ID_SESSION_KEY

    client.force_login(user)
    if otp_device is not None:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = otp_device.persistent_id
        session.save()
    return client


def turn_on_demo_app(settings, origin: str):
    """The demo application (off unless DEMO_APP), allowed to come back to a live server at ``origin``."""
    from accounts.models import Application

    settings.DEMO_APP = True
    app = Application.objects.get(slug="demo-app")  # registered by seed_demo
    app.redirect_uris += f" {origin}/demo-app/callback/"
    app.post_logout_redirect_uris += f" {origin}/demo-app/"
    app.save()
    return app


def rendering(template_text: str):
    """A ``Step.render`` that renders ``template_text`` (a Django template string) with the flow,
    its username, the first page's flow placeholder as ``placeholder``, and the render's extras:
    pages whose placeholders come out wrong (tests of ``signin/first_page.py``)."""
    from django.template import engines
    from django.template.response import TemplateResponse

    from signin import first_page

    template = engines["django"].from_string(template_text)

    def render(self, request, flow, form, **extra):
        return TemplateResponse(request, template, {"flow": flow, "username": flow.username,
                                                    "placeholder": first_page.FLOW_PLACEHOLDER, **extra})

    return render
