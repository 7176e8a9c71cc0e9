"""The bare site's redirect, and changing one's password (linked from Personal Information)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from accounts.services.passwords import change_password, password_expiry
from signin.flow import is_local_url
from signin.lockout import lockout_response
from signin.password_forms import ChangePasswordForm


def home(request: HttpRequest) -> HttpResponse:
    """The bare site: Personal Information when signed in, else the sign-in page."""
    return redirect("/me/" if request.user.is_authenticated else "/signin/")


@never_cache
@csrf_protect
@sensitive_post_parameters()
@login_required
def password_change(request: HttpRequest) -> HttpResponse:
    form = ChangePasswordForm(request.POST if request.method == "POST" else None, user=request.user,
                              request=request)
    if form.is_bound and form.is_valid():
        change_password(request.user, form.cleaned_data["new_password1"], request=request)
        messages.success(request, _("Your password has been changed. Your other sessions have "
                                    "been signed out."))
        return HttpResponseRedirect(_next_url(request) or settings.LOGIN_REDIRECT_URL)
    if form.locked_out:
        return lockout_response(request, None, {"username": request.user.username})
    return TemplateResponse(request, "connect_portal/password_change.html", {
        "form": form, "expiry": password_expiry(request.user), "next": _next_url(request)})


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    return target if target and is_local_url(request, target) else ""
