"""The lockout page: which lock applies, when it ends, and what lifts it (SECURITY.md 10, 39, 40)."""

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from accounts.models import LockoutCounter
from accounts.services import lockouts

from . import first_page

HTTP_STATUS = 429


def is_locked_out_request(request: HttpRequest) -> bool:
    """Whether an ``authenticate()`` in this request was refused, or started a lockout."""
    return bool(getattr(request, "lockout_locks", None))


def lockout_response(request: HttpRequest, original_response: HttpResponse | None = None,
                     credentials: dict | None = None, *, flow=None) -> HttpResponse:
    """Our lockout page, for /signin/ and for every other form that checks a password.

    The locks are those the request's attempt met (``accounts.backends``); without them, those
    that apply now to ``credentials["username"]`` from this browser. A sign-in step passes its
    ``flow``, so the page still says which application the user is signing in to; its page comes
    from memory but for when the lock ends (``first_page.serve_lockout``).
    """
    if original_response is not None and getattr(original_response, "is_lockout_page", False):
        return original_response  # the sign-in step rendered it already
    locks = getattr(request, "lockout_locks", None)
    if not locks:
        locks = lockouts.locks_for(request, (credentials or {}).get("username", ""))
    scopes = {lock.scope for lock in locks}
    ends = [lock.ends_at for lock in locks if lock.ends_at is not None]
    context = {
        "flow": flow,
        "locks": locks,
        "ends_at": max(ends) if ends else None,
        "username_locked": LockoutCounter.Scope.USERNAME in scopes,
        "device_locked": LockoutCounter.Scope.DEVICE in scopes,
        "address_locked": LockoutCounter.Scope.ADDRESS in scopes,
    }
    if flow is not None:
        response = first_page.serve_lockout(request, flow, context, render, status=HTTP_STATUS)
    else:
        response = render(request, context)
    response.is_lockout_page = True
    return response


def render(request: HttpRequest, context: dict) -> TemplateResponse:
    """The lockout page through the template engine."""
    return TemplateResponse(request, "signin/locked_out.html", context, status=HTTP_STATUS)
