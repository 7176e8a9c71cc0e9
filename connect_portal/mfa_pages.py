"""Personal Information, two-step verification (``/me/mfa/``): set up, replace, remove, backup codes.

Every change asks for the current password again, through ``authenticate()`` so the lockout counts
wrong ones (SECURITY.md 25; ASVS 7.5.1 asks it for adding a factor too). A user who has a second
factor changes it only from a session verified with it.
"""

from collections.abc import Callable
from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django_otp import login as otp_login

from accounts.services import passkeys, totp
from signin.forms import AccessibleForm, password_field
from signin.lockout import is_locked_out_request, lockout_response
from signin.steps.code import CodeForm

PENDING = "mfa_pending"  # the enrolment this session started: {"device": pk, "replace": bool}
WRONG_PASSWORD = _("That password is not right.")


class PasswordCheckForm(AccessibleForm):
    password = password_field(_("Current password"), "current-password",
                              required=_("Enter your current password."), too_long=WRONG_PASSWORD,
                              autofocus=True)

    def __init__(self, *args, request: HttpRequest, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.request = request

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        user = authenticate(self.request, username=self.request.user.username, password=password)
        if user is None or user.pk != self.request.user.pk:
            raise forms.ValidationError(WRONG_PASSWORD)
        return password


def why_not_changeable(request: HttpRequest) -> str | None:
    """Why this session may not change the user's MFA now, or None when it may."""
    user = request.user
    if not user.has_usable_password():
        return _("You sign in with Single Sign On: your company's identity provider asks for your "
                "second factor.")
    if passkeys.has_second_factor(user) and not user.is_verified():
        return _("This session was not verified with your authenticator app or passkey. Sign out "
                "and sign in again with one to change your two-step verification.")
    return None


def mfa_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in, never cached, CSRF-checked, secrets hidden from error reports, allowed to change."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        reason = why_not_changeable(request)
        if reason:
            messages.error(request, reason)
            return redirect("portal:mfa")
        return view(request, *args, **kwargs)

    return login_required(never_cache(csrf_protect(sensitive_post_parameters("password", "code")(
        wrapper))))


@login_required
@never_cache
def status(request: HttpRequest) -> HttpResponse:
    user = request.user
    return TemplateResponse(request, "connect_portal/mfa/status.html", {
        "passkeys": passkeys.passkeys_of(user),
        "authenticator": totp.authenticator(user),
        "backup_codes_left": totp.backup_codes_left(user),
        "required": totp.mfa_required(user),
        "blocked": why_not_changeable(request),
    })


def password_checked(request: HttpRequest, template_context: dict,
                     on_success: Callable[[], HttpResponse]) -> HttpResponse:
    """The "enter your password again" page; ``on_success`` runs once the password is right."""
    form = PasswordCheckForm(request.POST if request.method == "POST" else None, request=request)
    if request.method == "POST":
        valid = form.is_valid()
        if is_locked_out_request(request):
            return lockout_response(request, None, {"username": request.user.username})
        if valid:
            return on_success()
    return TemplateResponse(request, "connect_portal/mfa/password.html", {"form": form, **template_context})


@mfa_page
def setup(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator, or replace the one the user has (which stays until the new works)."""
    replace = totp.has_authenticator(request.user)

    def start() -> HttpResponse:
        enrolment = totp.start_enrolment(request.user)
        request.session[PENDING] = {"device": enrolment.device.pk, "replace": replace}
        return redirect("portal:mfa_confirm")

    return password_checked(request, {
        "title": _("Replace your authenticator app") if replace
        else _("Set up two-step verification"),
        "intro": _("Your current app keeps working until the new one is confirmed.") if replace
        else _("After your password, you will enter a code from an authenticator app on your "
               "phone."),
        "button": _("Continue"),
    }, start)


@mfa_page
def confirm(request: HttpRequest) -> HttpResponse:
    """The QR code and secret of the enrolment started on ``setup``, confirmed by a first code."""
    pending = request.session.get(PENDING) or {}
    enrolment = totp.pending_enrolment(request.user, pending.get("device"))
    if enrolment is None:
        messages.error(request, _("That set-up has expired or was replaced. Start again."))
        return redirect("portal:mfa_setup")
    form = CodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = totp.confirm_enrolment(
                request.user, enrolment.device.pk, form.cleaned_data["code"],
                replace=bool(pending.get("replace")), request=request)
        except totp.EnrolmentExpired as error:
            messages.error(request, str(error))
            return redirect("portal:mfa_setup")
        except totp.MfaError as error:
            form.add_error("code", str(error))
        else:
            request.session.pop(PENDING, None)
            request.session.cycle_key()  # privilege raised: a new session key (SECURITY.md 26)
            otp_login(request, device)  # this session is verified with the new device
            return TemplateResponse(request, "connect_portal/mfa/backup_codes.html",
                                    {"codes": codes, "title": _("Two-step verification is on")})
    return TemplateResponse(request, "connect_portal/mfa/confirm.html", {
        "form": form, "enrolment": enrolment, "replace": pending.get("replace")})


@mfa_page
def remove(request: HttpRequest) -> HttpResponse:
    if not totp.has_device(request.user):
        return redirect("portal:mfa")

    def remove_devices() -> HttpResponse:
        try:
            totp.remove_devices(request.user, acting_user=request.user, request=request)
        except totp.MfaError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Two-step verification is off. You now sign in with "
                                        "your password alone."))
        return redirect("portal:mfa")

    return password_checked(request, {
        "title": _("Turn off two-step verification"),
        "intro": _("Your authenticator app and backup codes will no longer sign you in."),
        "button": _("Turn off"),
    }, remove_devices)


@mfa_page
def backup_codes(request: HttpRequest) -> HttpResponse:
    if not totp.has_authenticator(request.user):
        return redirect("portal:mfa")

    def issue() -> HttpResponse:
        codes = totp.issue_backup_codes(request.user, request=request)
        return TemplateResponse(request, "connect_portal/mfa/backup_codes.html",
                                {"codes": codes, "title": _("New backup codes")})

    return password_checked(request, {
        "title": _("New backup codes"),
        "intro": _("Ten new codes replace the ones you have: the old ones stop working."),
        "button": _("Show new codes"),
    }, issue)
