"""Device cookies: a browser that signed in as a user holds a signed token for that user.

OWASP's "Slow Down Online Guessing Attacks with Device Cookies": attempts from a browser that holds
a valid device cookie for the username are counted apart (``services/lockouts.py``), so a lockout
caused by other devices does not stop the right password from the user's own browser, and a
spraying address's block does not stop users whose browser it knows. The cookie is signed with
``SECRET_KEY`` (``django.core.signing``), so nobody makes one for a username they never signed in
as; it names up to a few usernames (a shared computer), each with a random device id.
"""

import secrets

from django.core import signing
from django.http import HttpRequest, HttpResponse

from . import conf

SALT = "accounts.devices"


def _entries(request: HttpRequest) -> list[list[str]]:
    """The cookie's [username, device id] pairs when its signature and age are valid, else []."""
    cached = getattr(request, "_device_entries", None)
    if cached is not None:
        return cached
    entries: list[list[str]] = []
    raw = getattr(request, "COOKIES", {}).get(conf.get("LOCKOUT_DEVICE_COOKIE_NAME"))
    if raw:
        try:
            value = signing.loads(raw, salt=SALT,
                                  max_age=conf.get("LOCKOUT_DEVICE_COOKIE_AGE").total_seconds())
        except signing.BadSignature:
            value = []
        if isinstance(value, list):
            entries = [pair for pair in value if isinstance(pair, list) and len(pair) == 2
                       and all(isinstance(part, str) and part for part in pair)]
    request._device_entries = entries
    return entries


def device_id(request: HttpRequest | None, username: str) -> str | None:
    """The id of this browser's device cookie for ``username`` (canonical), or None."""
    if request is None or not username:
        return None
    return next((device for name, device in _entries(request) if name == username), None)


def remember(request: HttpRequest, username: str) -> None:
    """Give this browser a new device cookie for ``username`` (set on the response by the
    middleware); a new id at every sign-in, most recent username first."""
    others = [pair for pair in _entries(request) if pair[0] != username]
    entries = [[username, secrets.token_urlsafe(16)], *others][:conf.get("LOCKOUT_DEVICE_COOKIE_USERNAMES")]
    request._device_entries = entries
    request._device_cookie = signing.dumps(entries, salt=SALT, compress=True)


def set_cookie(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    value = getattr(request, "_device_cookie", None)
    if value:
        response.set_cookie(
            conf.get("LOCKOUT_DEVICE_COOKIE_NAME"), value,
            max_age=int(conf.get("LOCKOUT_DEVICE_COOKIE_AGE").total_seconds()),
            secure=conf.device_cookie_secure(), httponly=True, samesite="Lax",
        )
    return response


class DeviceCookieMiddleware:
    """Sets the device cookie that a sign-in in this request asked for (``remember``)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return set_cookie(request, self.get_response(request))
