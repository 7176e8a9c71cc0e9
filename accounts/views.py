from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect


def home(request: HttpRequest) -> HttpResponse:
    """The bare site: Personal Information when signed in, else the sign-in page."""
    return redirect("/me/" if request.user.is_authenticated else "/signin/")
