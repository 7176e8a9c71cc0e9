"""Forgotten passwords: ``/password/forgot/`` and ``/password/reset/<uidb64>/<token>/``."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from accounts.models import User
from accounts.services.passwords import (
    check_reset_token,
    complete_password_reset,
    request_password_reset,
    user_from_uidb64,
)

from .controller import resume
from .password_forms import ForgotPasswordForm, NewPasswordForm

RESET_SESSION_KEY = "_password_reset_token"
RESET_URL_TOKEN = "set-password"  # stands in the URL for the token once it is in the session
RESET_DONE = _("Your password has been changed. Sign in with your new password.")


@never_cache
@csrf_protect
def password_forgot(request: HttpRequest) -> HttpResponse:
    """Whatever was typed, and whatever the mail server did, the answer is the same redirect."""
    if request.method == "POST":
        form = ForgotPasswordForm(request.POST)
        if form.is_valid():
            request_password_reset(form.cleaned_data["login"], request=request)
            return redirect("signin:password_forgot_sent")
    else:
        flow = resume(request)
        form = ForgotPasswordForm(initial={"login": flow.username if flow else ""})
    return TemplateResponse(request, "signin/password/forgot.html",
                            {"form": form, "back_url": _back_to_sign_in(request)})


@never_cache
def password_forgot_sent(request: HttpRequest) -> HttpResponse:
    return TemplateResponse(request, "signin/password/forgot_sent.html", {
        "back_url": _back_to_sign_in(request),
        "valid_minutes": settings.PASSWORD_RESET_TIMEOUT // 60})


@never_cache
@csrf_protect
@sensitive_post_parameters()
def password_reset(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """Django's pattern: the token moves from the URL into the session, so no Referer carries it."""
    user = user_from_uidb64(uidb64)
    if token != RESET_URL_TOKEN:
        if not check_reset_token(user, token):
            return _invalid_link(request)
        request.session[RESET_SESSION_KEY] = token
        return redirect("signin:password_reset", uidb64=uidb64, token=RESET_URL_TOKEN)
    if not check_reset_token(user, request.session.get(RESET_SESSION_KEY)):
        return _invalid_link(request)
    form = NewPasswordForm(request.POST if request.method == "POST" else None, user=user)
    if form.is_bound and form.is_valid():
        complete_password_reset(user, form.cleaned_data["new_password1"], request=request)
        request.session.pop(RESET_SESSION_KEY, None)
        messages.success(request, RESET_DONE)
        return _continue_sign_in(request, user)
    return TemplateResponse(request, "signin/password/reset.html", {"form": form, "reset_user": user})


def _invalid_link(request: HttpRequest) -> HttpResponse:
    request.session.pop(RESET_SESSION_KEY, None)
    return TemplateResponse(request, "signin/password/reset_invalid.html", {})


def _continue_sign_in(request: HttpRequest, user: User) -> HttpResponse:
    """Back to the sign-in this browser had started, at its password step; never signed in by the reset.

    Whatever that flow had proven before (the old password, a code) no longer stands: the user signs
    in with the new password and then every step after it, MFA included (SECURITY.md 14).
    """
    flow = resume(request)
    if flow is None or not flow.is_for(user):
        query = urlencode({"login_hint": user.username})
        return HttpResponseRedirect(f"{reverse('signin:signin')}?{query}")
    return flow.restart_at_password()


def _back_to_sign_in(request: HttpRequest) -> str:
    """Where "Back to sign in" goes: the step this browser's sign-in was at, else a new sign-in."""
    flow = resume(request)
    return flow.url if flow is not None else reverse("signin:signin")

