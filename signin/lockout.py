"""The lockout page: what happened, when it ends, who can unlock it. Also axes' LOCKOUT_CALLABLE."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from accounts.clientip import client_ip
from accounts.services.lockouts import lockout_ends_at
from accounts.usernames import canonical_username


def is_locked_out_request(request: HttpRequest) -> bool:
    return bool(getattr(request, "axes_locked_out", False))


def lockout_response(request: HttpRequest, original_response: HttpResponse | None = None,
                     credentials: dict | None = None) -> HttpResponse:
    """Our lockout page, for /signin/ and for any other form that authenticates through axes."""
    if original_response is not None and getattr(original_response, "is_lockout_page", False):
        return original_response  # the sign-in step rendered it already
    username = canonical_username((credentials or {}).get("username", ""))
    context = {
        "ends_at": lockout_ends_at(username, client_ip(request)),
        "failure_limit": settings.AXES_FAILURE_LIMIT,
    }
    response = TemplateResponse(request, "signin/locked_out.html", context,
                                status=settings.AXES_HTTP_RESPONSE_CODE)
    response.is_lockout_page = True
    return response
