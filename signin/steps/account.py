"""Step 2: "Multiple accounts located", before or after the password as the application says."""

from django import forms
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from ..flow import SigninFlow, find_account
from ..forms import AccessibleForm, refuse_control_characters
from .base import Runner, Step

NOT_FOUND = _("We couldn't find that account for your username. Check the Account Number or "
              "Partner Label, or choose your account from the list.")


class AccountForm(AccessibleForm):
    account = forms.ChoiceField(label=_("Account"), required=False,
                                widget=forms.Select(attrs={"autofocus": True}))
    account_number = forms.CharField(
        label=_("Or type the Account Number or Partner Label"),
        required=False,
        max_length=64,
        validators=[refuse_control_characters],
        error_messages={"max_length": NOT_FOUND},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def __init__(self, *args, flow: SigninFlow, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.flow = flow
        self.fields["account"].choices = [("", _("Choose your account"))] + [
            (a.account_number, f"{a.name} ({a.account_number})") for a in flow.accounts
        ]
        # An account the user does not belong to gets the typo message, not Django's own.
        self.fields["account"].error_messages["invalid_choice"] = NOT_FOUND

    def clean(self):
        data = super().clean()
        picked, typed = data.get("account"), (data.get("account_number") or "").strip()
        if self.errors:
            return data
        if not (typed or picked):
            raise forms.ValidationError(_("Choose your account, or type its Account Number or "
                                          "Partner Label."))
        if typed and picked:
            in_list = find_account(self.flow.accounts, picked)
            if in_list is not None and find_account(self.flow.accounts, typed) != in_list:
                # Two answers: signing in to either would be a guess (SECURITY.md 1 still holds:
                # the typed one is not said to exist or not).
                raise forms.ValidationError(
                    _("You chose %(chosen)s in the list and typed %(typed)s in the box. Choose "
                      "your account in one place only, or make both the same account."),
                    params={"chosen": f"{in_list.name} ({in_list.account_number})",
                            "typed": f"“{typed}”"})
        data["chosen"] = find_account(self.flow.accounts, typed or picked)
        if data["chosen"] is None:
            self.add_error("account_number", NOT_FOUND)
        return data


class AccountStep(Step):
    template = "signin/account.html"
    slug = "account"

    def needs_choice(self, flow: SigninFlow) -> bool:
        return flow.account is None and len(flow.accounts) > 1

    def make_form(self, flow, data=None):
        return AccountForm(data, flow=flow)

    def post(self, request: HttpRequest, flow: SigninFlow, runner: Runner) -> HttpResponse:
        form = AccountForm(request.POST, flow=flow)
        if not form.is_valid():
            return self.render(request, flow, form)
        flow.chose_account(form.cleaned_data["chosen"])
        return runner.done()


class AccountBeforePasswordStep(AccountStep):
    """Mitel's default: asked before the password, only of real multi-account usernames.

    Showing it reveals that a username has several accounts: the documented trade-off of
    applications that keep this default (SECURITY.md 1).
    """

    name = "account_before"
    slug = "account"

    def applies(self, flow: SigninFlow) -> bool:
        return not flow.picker_after_password and self.needs_choice(flow)


class AccountAfterPasswordStep(AccountStep):
    """Asked only once the password is proven, so Next reveals nothing about the username."""

    name = "account_after"
    slug = "account"

    def applies(self, flow: SigninFlow) -> bool:
        return flow.picker_after_password and flow.is_authenticated and self.needs_choice(flow)
