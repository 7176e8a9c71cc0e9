"""Personal Information, passkeys (``/me/passkeys/``): add (named), rename, remove.

Adding and removing ask for the current password again, through ``authenticate()`` so the lockout
counts wrong ones (SECURITY.md 25); the password unlocks adding for a few minutes, in which the
browser makes the passkey (django-otp-webauthn's ``otp_webauthn_register.js`` posts to
``registration_begin`` and ``registration_complete``). Every change is audited and e-mailed
(``accounts.services.passkeys``).
"""

import json
import time

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp_webauthn.models import WebAuthnCredential

from accounts.services import passkeys
from signin.forms import AccessibleForm, refuse_control_characters
from signin.lockout import is_locked_out_request, lockout_response

from .mfa_pages import PasswordCheckForm, mfa_page, password_checked, why_not_changeable

ADDING = "passkey_adding"  # {"name": ..., "until": epoch seconds}: the password was checked
ADDING_SECONDS = 5 * 60


def name_field() -> forms.CharField:
    return forms.CharField(
        label=gettext_lazy("Name"), max_length=passkeys.NAME_MAX_LENGTH,
        validators=[refuse_control_characters],
        help_text=gettext_lazy("So you can tell your passkeys apart, e.g. \"Work laptop\" or \"My phone\"."),
        error_messages={"required": gettext_lazy("Give the passkey a name."),
                        "max_length": ngettext_lazy("A name is at most %(limit_value)d character.",
                                                    "A name is at most %(limit_value)d characters.",
                                                    "limit_value")},
        widget=forms.TextInput(attrs={"autocomplete": "off"}))


class AddPasskeyForm(PasswordCheckForm):
    name = name_field()
    field_order = ["name", "password"]


class RenameForm(AccessibleForm):
    name = name_field()


@mfa_page
def passkey_list(request: HttpRequest) -> HttpResponse:
    return TemplateResponse(request, "connect_portal/passkeys/list.html", {
        "passkeys": passkeys.passkeys_of(request.user),
        "limit": settings.PASSKEYS_MAX_PER_USER,
    })


@mfa_page
def add(request: HttpRequest) -> HttpResponse:
    if passkeys.passkeys_of(request.user).count() >= settings.PASSKEYS_MAX_PER_USER:
        messages.error(request, str(passkeys.TooManyPasskeys()))
        return redirect("portal:passkeys")
    form = AddPasskeyForm(request.POST if request.method == "POST" else None, request=request)
    if request.method == "POST":
        valid = form.is_valid()
        if is_locked_out_request(request):
            return lockout_response(request, None, {"username": request.user.username})
        if valid:
            request.session[ADDING] = {"name": passkeys.clean_name(form.cleaned_data["name"]),
                                       "until": time.time() + ADDING_SECONDS}
            return redirect("portal:passkey_create")
    return TemplateResponse(request, "connect_portal/passkeys/add.html", {"form": form})


def adding(request: HttpRequest) -> dict | None:
    """The addition this session's password unlocked, while it lasts."""
    pending = request.session.get(ADDING)
    if not isinstance(pending, dict) or pending.get("until", 0) < time.time():
        return None
    return pending


@mfa_page
def create(request: HttpRequest) -> HttpResponse:
    pending = adding(request)
    if pending is None:
        messages.error(request, _("To add a passkey, enter your password first."))
        return redirect("portal:passkey_add")
    return TemplateResponse(request, "connect_portal/passkeys/create.html", {
        "name": pending["name"],
        "passkey_config": {
            "beginRegistrationUrl": reverse("portal:passkey_registration_begin"),
            "completeRegistrationUrl": reverse("portal:passkey_registration_complete"),
            "csrfToken": get_token(request),  # sent back as X-CSRFToken (the cookie is HttpOnly)
        },
    })


def registration_refusal(request: HttpRequest) -> JsonResponse | None:
    if not request.user.is_authenticated:
        return JsonResponse({"detail": _("Sign in first.")}, status=403)
    reason = why_not_changeable(request)
    if reason:
        return JsonResponse({"detail": reason}, status=403)
    if adding(request) is None:
        return JsonResponse({"detail": _("This has expired: enter your password again.")}, status=403)
    return None


@never_cache
@csrf_protect
@require_POST
def registration_begin(request: HttpRequest) -> JsonResponse:
    refusal = registration_refusal(request)
    if refusal is not None:
        return refusal
    try:
        return JsonResponse(passkeys.begin_registration(request, request.user))
    except passkeys.PasskeyError as error:
        return JsonResponse({"detail": str(error)}, status=403)


@never_cache
@csrf_protect
@require_POST
def registration_complete(request: HttpRequest) -> JsonResponse:
    refusal = registration_refusal(request)
    if refusal is not None:
        return refusal
    try:
        data = json.loads(request.body or b"{}")
        device = passkeys.complete_registration(request, request.user, data,
                                                name=adding(request)["name"])
    except (ValueError, passkeys.PasskeyError) as error:
        detail = str(error) if isinstance(error, passkeys.PasskeyError) else _("Malformed request.")
        return JsonResponse({"detail": detail}, status=400)
    request.session.pop(ADDING, None)
    if not request.user.is_verified():
        # The first second factor: this session, which just proved the password and made the
        # passkey, is verified with it (others ended: SECURITY.md 51).
        request.session.cycle_key()
        otp_login(request, device)
    messages.success(request, _("Your passkey \"%(name)s\" was added.") % {"name": device.name})
    return JsonResponse({"id": device.pk})


def own_passkey(request: HttpRequest, passkey_id: int) -> WebAuthnCredential:
    device = passkeys.passkeys_of(request.user).filter(pk=passkey_id).first()
    if device is None:
        raise Http404
    return device


@mfa_page
def rename(request: HttpRequest, passkey_id: int) -> HttpResponse:
    device = own_passkey(request, passkey_id)
    form = RenameForm(request.POST if request.method == "POST" else None,
                      initial={"name": device.name})
    if request.method == "POST" and form.is_valid():
        passkeys.rename_passkey(request.user, device.pk, form.cleaned_data["name"], request=request)
        messages.success(request, _("The passkey was renamed."))
        return redirect("portal:passkeys")
    return TemplateResponse(request, "connect_portal/passkeys/rename.html",
                            {"form": form, "passkey": device})


@mfa_page
def remove(request: HttpRequest, passkey_id: int) -> HttpResponse:
    device = own_passkey(request, passkey_id)

    def remove_it() -> HttpResponse:
        try:
            name = passkeys.remove_passkey(request.user, device.pk, request=request)
        except passkeys.PasskeyError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Your passkey \"%(name)s\" was removed.") % {"name": name})
        return redirect("portal:passkeys")

    return password_checked(request, {
        "title": _("Remove the passkey \"%(name)s\"") % {"name": device.name},
        "intro": _("It will no longer sign you in."),
        "button": _("Remove passkey"),
        "back_url": reverse("portal:passkeys"), "back_label": _("Passkeys"),
    }, remove_it)
