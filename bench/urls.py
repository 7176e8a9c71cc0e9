"""The site's URLs, and one trivial view: the baseline a sign-in page is compared with."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from mitel_portal.urls import urlpatterns as site_urlpatterns


def trivial(request: HttpRequest) -> HttpResponse:
    """The cheapest Django page: every middleware of the site, no template, no query."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/trivial/", trivial), *site_urlpatterns]
