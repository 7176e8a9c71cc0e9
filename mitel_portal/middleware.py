"""Middleware of the whole site."""

import zoneinfo
from functools import cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation
from django.utils.cache import add_never_cache_headers


class NoStoreMiddleware:
    """``Cache-Control: no-store`` on every page that does not say otherwise (SECURITY.md 47).

    Every page this service renders is about someone (personal information, recent sign-ins with
    addresses, the Connect Portal's users) or carries a sign-in in progress, so none may be kept by
    a browser's history or a shared proxy. A view that names its own caching keeps it; static files
    are answered by WhiteNoise, before this middleware, and stay cacheable.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            add_never_cache_headers(response)
        return response


def ui_locales_language(value: str) -> str | None:
    """The first of an OpenID Connect ``ui_locales`` ("fr-CA de en") that we speak, else None."""
    for tag in value.split()[:10]:
        try:
            return translation.get_supported_language_variant(tag.strip()[:35])
        except LookupError:
            continue
    return None


class UiLocalesMiddleware:
    """An application's ``ui_locales`` (OpenID Connect Core 3.1.2.1) sets the page's language.

    Asked of any page (the authorize request hands it to ``/signin/``); kept in the language
    cookie, so the rest of the sign-in stays in it. Runs after ``LocaleMiddleware``.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = ui_locales_language(request.GET.get("ui_locales", ""))
        if language is None:
            return self.get_response(request)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME, language, max_age=settings.LANGUAGE_COOKIE_AGE,
            path=settings.LANGUAGE_COOKIE_PATH, domain=settings.LANGUAGE_COOKIE_DOMAIN,
            secure=settings.LANGUAGE_COOKIE_SECURE, httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE)
        return response


TIMEZONE_COOKIE = "mitel_tz"
TIMEZONE_SESSION_KEY = "timezone"


@cache
def _known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def known_zone(name: str) -> str:
    """``name`` when it is an IANA time zone this system knows (``Europe/Paris``), else ""."""
    return name if len(name) <= 64 and name in _known_zones() else ""


class TimezoneMiddleware:
    """Shows times in the viewer's time zone: the browser's, as static/js/timezone.js reports it.

    The script sets the ``mitel_tz`` cookie from ``Intl.DateTimeFormat``; a name zoneinfo knows is
    kept in the session and activated for the request. Anything else is ignored: times stay in UTC,
    and the format names the zone either way.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        zone = known_zone(request.COOKIES.get(TIMEZONE_COOKIE, ""))
        session = getattr(request, "session", None)
        if session is not None:
            if zone and session.get(TIMEZONE_SESSION_KEY) != zone:
                session[TIMEZONE_SESSION_KEY] = zone
            zone = zone or known_zone(str(session.get(TIMEZONE_SESSION_KEY, "")))
        if zone:
            timezone.activate(zoneinfo.ZoneInfo(zone))
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
