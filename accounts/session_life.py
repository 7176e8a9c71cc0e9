"""How long a signed-in session lives, and what /me/ shows of it (SECURITY.md 51).

"Stay signed in? Yes" keeps a session for ``SESSION_COOKIE_AGE`` (30 days). "No" gives a cookie
that ends with the browser (Django's ``set_expiry(0)``, which is how the session records the
choice) and, on the server, a short life (``SESSION_SHORT_AGE``) counted from sign-in plus an idle
timeout (``SESSION_IDLE_TIMEOUT``): a copied cookie stops working when either runs out, browser
closed or not. Both are enforced twice: the stored session's ``expire_date`` is the earlier of the
two, so the session store itself refuses it, and ``SessionLifeMiddleware`` ends it by its own
timestamps.

"Last seen" is written at most once a minute (``TOUCH_INTERVAL``), not on every request: one
session write a minute per active browser, and the idle timeout is exact to that minute.
"""

import time
from datetime import UTC, datetime

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.http import HttpRequest, HttpResponse
from django.utils.crypto import salted_hmac

from .clientip import client_ip

STARTED = "_session_started"  # when the user signed in (seconds since the epoch)
SEEN = "_session_seen"  # when the session was last used, to within TOUCH_INTERVAL
AGENT = "_session_agent"
IP = "_session_ip"
TOUCH_INTERVAL = 60


def short_age() -> int:
    return settings.SESSION_SHORT_AGE


def idle_timeout() -> int:
    return settings.SESSION_IDLE_TIMEOUT


def stays(data: dict) -> bool:
    """Whether the person chose "Stay signed in" (Django keeps ``set_expiry(0)`` as ``0``)."""
    return data.get("_session_expiry") != 0


def ends_at(data: dict) -> int | None:
    """When a session that did not "stay" ends on the server (epoch seconds); None for one that stays."""
    if stays(data) or STARTED not in data:
        return None
    return min(data[STARTED] + short_age(), data.get(SEEN, data[STARTED]) + idle_timeout())


def has_ended(data: dict, *, now: float | None = None) -> bool:
    end = ends_at(data)
    return end is not None and (now if now is not None else time.time()) >= end


def touch(session, request: HttpRequest, *, now: float | None = None) -> None:
    """Record that the session was used now: at most once a ``TOUCH_INTERVAL``, or when the
    browser's address or user agent changed."""
    now = int(now if now is not None else time.time())
    agent = request.META.get("HTTP_USER_AGENT", "")[:256]
    ip = client_ip(request)
    if session.get(STARTED) is None:
        session[STARTED] = now
    if now - session.get(SEEN, 0) >= TOUCH_INTERVAL:
        session[SEEN] = now
    if session.get(AGENT) != agent:
        session[AGENT] = agent
    if session.get(IP) != ip:
        session[IP] = ip


def describe(row, data: dict) -> None:
    """Copy what /me/ lists into the stored session's columns, and shorten its life if it did not
    "stay" (called by ``accounts.sessions.SessionStore`` on every save)."""
    row.created_at = _when(data.get(STARTED))
    row.last_used_at = _when(data.get(SEEN))
    row.user_agent = (data.get(AGENT) or "")[:256]
    row.ip_address = data.get(IP) or None
    end = ends_at(data)
    if end is not None:
        row.expire_date = min(row.expire_date, _when(end))


def _when(seconds: int | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


class SessionLifeMiddleware:
    """Ends a signed-in session whose short life or idle time ran out; records when it was used.

    Right after ``SessionMiddleware``: the session is ended before anything reads its user.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        if session is not None and session.get(SESSION_KEY) is not None:
            if has_ended(session):
                self.end(request)
            else:
                touch(session, request)
        return self.get_response(request)

    @staticmethod
    def end(request: HttpRequest) -> None:
        from .models import AuditEvent, User
        from .services import audit

        session = request.session
        user = User.objects.filter(pk=session.get(SESSION_KEY)).first()
        timed_out = time.time() >= session.get(SEEN, session[STARTED]) + idle_timeout()
        session.flush()
        if user is not None:
            audit.record_about(AuditEvent.Kind.SIGN_OUT, request=request, user=user,
                               reason="idle" if timed_out else "session_life")


# --- what /me/ shows ----------------------------------------------------------------------------

def handle(session_key: str) -> str:
    """A name for a session that a page may show and post back: never the key, which is a credential."""
    return salted_hmac("accounts.session_life.handle", session_key).hexdigest()[:24]


BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"),
            ("CriOS/", "Chrome"), ("Safari/", "Safari"))
SYSTEMS = (("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"), ("CrOS", "ChromeOS"),
           ("Windows", "Windows"), ("Mac OS X", "macOS"), ("Macintosh", "macOS"), ("Linux", "Linux"))


def device(user_agent: str) -> str:
    """"Firefox on Windows" from a user agent: the browser and system families, nothing finer.

    A small table rather than a parser library: /me/ only needs a person to recognise their own
    devices, and the first match of the list is right for the browsers people use.
    """
    browser = next((name for token, name in BROWSERS if token in user_agent), "")
    system = next((name for token, name in SYSTEMS if token in user_agent), "")
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or "Unknown device"

