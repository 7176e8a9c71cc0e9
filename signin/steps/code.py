"""Step 4, "Verify code", and the enrolment an account's MFA policy forces on password users.

Both apply only to password sign-ins: SSO users get their MFA at the identity provider. Until the
code is verified (or the new authenticator confirmed), nobody is logged in: the session holds only
the flow state.
"""

from django import forms
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from accounts.services import lockouts, passkeys, totp

from ..flow import SigninFlow
from ..forms import AccessibleForm, refuse_control_characters
from ..lockout import lockout_response
from ..passkey_page import config as passkey_config
from .base import Runner, Step


class CodeForm(AccessibleForm):
    code = forms.CharField(
        label=_("Code"),
        max_length=64,
        validators=[refuse_control_characters],
        error_messages={"required": _("Enter the code from your authenticator app."),
                        "max_length": totp.MALFORMED},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True,
                                      "spellcheck": "false", "autocapitalize": "none",
                                      "inputmode": "numeric", "aria-describedby": "code-help"}),
    )

    def __init__(self, *args, backup: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.backup = backup
        if backup:  # backup codes have letters: a phone's number pad cannot type them
            self.fields["code"].label = _("Backup code")
            self.fields["code"].widget.attrs["inputmode"] = "text"
            self.fields["code"].widget.attrs["autocomplete"] = "off"

    def add_error(self, field, error) -> None:
        super().add_error(field, error)
        attrs = self.fields["code"].widget.attrs
        if attrs.get("aria-describedby", "").endswith("-error"):  # keep the help text tied too
            attrs["aria-describedby"] = f"code-help {attrs['aria-describedby']}"


def wants_backup_code(request: HttpRequest) -> bool:
    """The user chose "Use a backup code" (a link on the page, then a hidden field of its form)."""
    return request.GET.get("backup") == "1" or request.POST.get("kind") == "backup"


class CodeStep(Step):
    """A 6-digit code from the authenticator app, or a backup code; each works once. A person
    with a passkey is offered it first, in place of a code (``signin.passkeys``)."""

    name = "code"
    renders_in_place = False  # its page reads the query string (?backup=1)
    template = "signin/code.html"
    form_class = CodeForm

    def get(self, request: HttpRequest, flow: SigninFlow, **extra) -> HttpResponse:
        return self.render(request, flow, CodeForm(backup=wants_backup_code(request)), **extra)

    def applies(self, flow: SigninFlow) -> bool:
        # A device verified in this flow already (a new one, confirmed by enrolment) is enough.
        return (flow.proved_by_password and not flow.second_factor
                and flow.memo("has_device", lambda: passkeys.has_second_factor(flow.user)))

    def context(self, flow: SigninFlow) -> dict:
        has_passkey = flow.memo("has_passkey", lambda: passkeys.has_passkey(flow.user))
        return {"has_passkey": has_passkey,
                "has_code": flow.memo("has_code", lambda: totp.has_device(flow.user)),
                "passkey_config": passkey_config(flow.request, second_factor=True) if has_passkey
                else None}

    def post(self, request: HttpRequest, flow: SigninFlow, runner: Runner) -> HttpResponse:
        credentials = {"username": flow.username}
        try:
            # Counted like a wrong password, before the code is checked: guessing ends in the same
            # lockout, and a parallel burst checks no more codes than the limit (SECURITY.md 41).
            attempt = lockouts.begin(request, flow.username)
        except lockouts.LockedOut as locked:
            request.lockout_locks = locked.locks
            return lockout_response(request, None, credentials, flow=flow)
        form = CodeForm(request.POST, backup=wants_backup_code(request))
        if not form.is_valid():
            attempt.not_checked()
            return self.render(request, flow, form)
        try:
            device = totp.verify_code(flow.user, form.cleaned_data["code"], request=request,
                                      account=flow.account, application=flow.application)
        except totp.CodeRefused as refused:
            attempt.failed()
            if attempt.started:
                request.lockout_locks = attempt.started
                return lockout_response(request, None, credentials, flow=flow)
            form.add_error("code", str(refused))
            return self.render(request, flow, form)
        except totp.MfaError as error:  # malformed, or django-otp's throttle: nothing was checked
            attempt.not_checked()
            form.add_error("code", str(error))
            return self.render(request, flow, form)
        attempt.succeeded()
        flow.verified_second_factor(device.persistent_id)
        return runner.done()


class MfaEnrolStep(Step):
    """An account requires MFA and the user has no authenticator: they add one before going on."""

    name = "mfa_enrol"
    renders_in_place = False  # its page sets up the authenticator
    slug = "mfa-setup"
    template = "signin/mfa_setup.html"
    form_class = CodeForm

    def applies(self, flow: SigninFlow) -> bool:
        return (flow.proved_by_password and any(a.require_mfa for a in flow.accounts)
                and not flow.memo("has_authenticator", lambda: totp.has_authenticator(flow.user))
                and not flow.memo("has_passkey", lambda: passkeys.has_passkey(flow.user)))

    def enrolment(self, flow: SigninFlow) -> totp.Enrolment:
        """The enrolment this flow started, or a new one (a new secret) when it is gone or old."""
        enrolment = totp.pending_enrolment(flow.user, flow.pending_device_id)
        if enrolment is None:
            enrolment = totp.start_enrolment(flow.user)
            flow.started_enrolment(enrolment.device.pk)
            flow.save()
        return enrolment

    def render(self, request, flow, form, *, status: int = 200, **extra) -> HttpResponse:
        return super().render(request, flow, form, status=status, enrolment=self.enrolment(flow),
                              **extra)

    def post(self, request: HttpRequest, flow: SigninFlow, runner: Runner) -> HttpResponse:
        form = CodeForm(request.POST)
        if not form.is_valid():
            return self.render(request, flow, form)
        try:
            device, codes = totp.confirm_enrolment(flow.user, flow.pending_device_id,
                                                   form.cleaned_data["code"], request=request)
        except totp.MfaError as error:
            form.add_error("code", str(error))
            return self.render(request, flow, form)
        flow.verified_second_factor(device.persistent_id)
        next_step = runner.done()  # saves the flow; the codes are shown in this response only
        return TemplateResponse(request, "signin/mfa_backup_codes.html", {
            "flow": flow, "codes": codes, "continue_url": next_step["Location"],
        })
