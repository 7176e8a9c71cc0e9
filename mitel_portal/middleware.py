"""Middleware of the whole site."""

from django.http import HttpRequest, HttpResponse
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
