"""Forms of the password pages and of the sign-in's expiry step."""

from dataclasses import dataclass

from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.validators import MATCH_RULE, Rule, password_rules, rule_results

from .forms import AccessibleForm, password_field, refuse_control_characters

MISMATCH = _("The two new passwords are different. Type the same new password in both boxes.")
SAME_AS_CURRENT = _("Your new password must be different from your current one.")
WRONG_CURRENT = _("Your current password is incorrect.")


@dataclass(frozen=True)
class RuleStatus:
    """A rule as the page shows it: met (True), not met (False) or not checked yet (None)."""

    rule: Rule
    met: bool | None


class NewPasswordForm(AccessibleForm):
    """A new password, twice, checked against the password rules; the rules list beside it."""

    new_password1 = password_field(_("New password"), "new-password",
                                   required=_("Enter your new password."), autofocus=True)
    new_password2 = password_field(_("New password again"), "new-password",
                                   required=_("Enter your new password again."))

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.rules_failed = False
        self.fields["new_password1"].widget.attrs["aria-describedby"] = self.rules_id

    @property
    def rules_id(self) -> str:
        return f"{self.auto_id % 'new_password1'}-rules"

    def add_error(self, field, error) -> None:
        super().add_error(field, error)
        attrs = self.fields["new_password1"].widget.attrs
        described = attrs.get("aria-describedby", "")
        if self.rules_id not in described.split():
            attrs["aria-describedby"] = f"{described} {self.rules_id}".strip()

    def clean_new_password2(self) -> str:
        first, second = self.cleaned_data.get("new_password1"), self.cleaned_data["new_password2"]
        if first is not None and first != second:
            raise forms.ValidationError(MISMATCH, code="password_mismatch")
        return second

    def clean(self):
        data = super().clean()
        password = data.get("new_password1")
        if password is None:
            return data
        try:
            validate_password(password, self.user)
        except forms.ValidationError as error:
            # Said once in the error summary; beside the field, the rules list marks what is
            # missing (tied to the field), instead of the same sentence a second time.
            self.add_error("new_password1", error)
            self.rules_failed = True
            self.fields["new_password1"].widget.attrs["aria-describedby"] = self.rules_id
            return data
        if "new_password2" in data and self.is_current_password(password):
            self.add_error("new_password1", forms.ValidationError(SAME_AS_CURRENT, code="password_unchanged"))
        return data

    def is_current_password(self, password: str) -> bool:
        return self.user.check_password(password)

    def rule_statuses(self) -> list[RuleStatus]:
        """The rules, with what the submitted password met: the no-JavaScript live list."""
        submitted = self.data.get(self.add_prefix("new_password1")) if self.is_bound else None
        results = rule_results(submitted, self.user) if submitted else {}
        statuses = [RuleStatus(rule, results.get(rule.code)) for rule in password_rules(self.user)]
        match = None
        if submitted:
            match = submitted == self.data.get(self.add_prefix("new_password2"))
        return [*statuses, RuleStatus(MATCH_RULE, match)]


class ChangePasswordForm(NewPasswordForm):
    """``/password/change/``: the current password, then the new one twice.

    The current password is checked through ``authenticate()``, so the lockout counts wrong ones
    towards the lockout like any other password form (SECURITY.md 5) and refuses, without hashing,
    while the username is locked out.
    """

    current_password = password_field(_("Current password"), "current-password",
                                      required=_("Enter your current password."), autofocus=True)
    field_order = ["current_password", "new_password1", "new_password2"]

    def __init__(self, *args, user: User, request: HttpRequest, **kwargs) -> None:
        super().__init__(*args, user=user, **kwargs)
        self.request = request
        self.locked_out = False
        self.fields["new_password1"].widget.attrs.pop("autofocus", None)

    def clean_current_password(self) -> str:
        password = self.cleaned_data["current_password"]
        user = authenticate(self.request, username=self.user.username, password=password)
        if getattr(self.request, "lockout_locks", None):
            self.locked_out = True
        if user is None or user.pk != self.user.pk:
            raise forms.ValidationError(WRONG_CURRENT, code="password_incorrect")
        return password

    def is_current_password(self, password: str) -> bool:
        return password == self.cleaned_data["current_password"]  # proven above: no second hash

    def clean(self):
        if "current_password" not in self.cleaned_data:
            return self.cleaned_data  # the rules and the new password wait for a proven identity
        return super().clean()


class ForgotPasswordForm(AccessibleForm):
    login = forms.CharField(
        label=_("Username or e-mail address"),
        max_length=254,
        error_messages={"required": _("Enter your username or e-mail address."),
                        "max_length": _("A username or e-mail address is at most 254 characters.")},
        validators=[refuse_control_characters],
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True,
                                      "spellcheck": "false", "autocapitalize": "none",
                                      "inputmode": "email"}),
    )
