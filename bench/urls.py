"""The site's URLs, one trivial view (the baseline a sign-in page is compared with), and Django's own
``LoginView`` (the baseline our identifier-first sign-in is compared with)."""

from django import forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.urls import path

from mitel_portal.urls import urlpatterns as site_urlpatterns


def trivial(request: HttpRequest) -> HttpResponse:
    """The cheapest Django page: every middleware of the site, no template, no query."""
    return HttpResponse("ok", content_type="text/plain")


class StockAuthenticationForm(AuthenticationForm):
    """contrib.auth's form, its password checked by Django's ``ModelBackend`` alone: stock Django,
    without the project's lockout backend (which counts before it hashes)."""

    def clean(self):
        username, password = self.cleaned_data.get("username"), self.cleaned_data.get("password")
        if username is not None and password:
            self.user_cache = ModelBackend().authenticate(self.request, username=username,
                                                          password=password)
            if self.user_cache is None:
                raise forms.ValidationError("Wrong username or password.")
            self.user_cache.backend = "django.contrib.auth.backends.ModelBackend"
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


stock_login = auth_views.LoginView.as_view(template_name="bench/stock_login.html",
                                           authentication_form=StockAuthenticationForm,
                                           next_page="/bench/trivial/")

urlpatterns = [path("bench/trivial/", trivial), path("bench/stock-login/", stock_login),
               *site_urlpatterns]
