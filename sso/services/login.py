"""Starting a Single Sign On login for the sign-in flow's account."""

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse


def start_login(request: HttpRequest, flow) -> HttpResponse:
    """Send the user to the account's identity provider (the SSO work fills this in)."""
    return TemplateResponse(
        request,
        "accounts/signin/sso_unavailable.html",
        {"flow": flow, "reason": "Single Sign On is not set up for this account yet."},
        status=503,
    )
