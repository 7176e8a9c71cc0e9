"""Step 3, Mitel authentication: the password, counted by the lockout before it is checked."""

from django.contrib.auth import authenticate
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from ..flow import SigninFlow
from ..forms import AccessibleForm, password_field
from ..lockout import is_locked_out_request, lockout_response
from .base import Runner, Step

WRONG = _("The username or password is incorrect.")


class PasswordForm(AccessibleForm):
    password = password_field(_("Password"), "current-password", required=_("Enter your password."),
                              too_long=WRONG, autofocus=True)


def sso_offered(flow: SigninFlow) -> bool:
    """The account's identity provider may sign this username in now (SECURITY.md 43)."""
    account = flow.account
    return account is not None and account.sso_enabled and flow.speaks_for(account)


def sso_required(flow: SigninFlow) -> bool:
    return sso_offered(flow) and not flow.wants_password


class PasswordStep(Step):
    name = "password"
    slug = "authenticate"  # shared with the SSO step: the URL after Next says nothing
    template = "signin/password.html"
    form_class = PasswordForm

    def applies(self, flow: SigninFlow) -> bool:
        return not flow.is_authenticated and not sso_required(flow)

    def context(self, flow: SigninFlow) -> dict:
        # The account is named only once the user picked it: for everyone else the page must not
        # differ from an unknown username's (SECURITY.md 1).
        return {
            "offer_sso": sso_offered(flow),
            "account_chosen": flow.account_was_chosen,
        }

    def memory_key(self, flow: SigninFlow) -> tuple | None:
        # The account is named on the page once chosen: rendered each time then.
        return None if flow.account_was_chosen else (sso_offered(flow),)

    def post(self, request: HttpRequest, flow: SigninFlow, runner: Runner) -> HttpResponse:
        action = request.POST.get("action")
        if action == "sso" and self.context(flow)["offer_sso"]:
            flow.chose_sso()
            return runner.proceed()
        if action == "change_account" and flow.account_was_chosen:
            flow.change_account()
            return runner.proceed()
        form = PasswordForm(request.POST)
        if not form.is_valid():
            return self.render(request, flow, form)
        # Unknown usernames go through authenticate() too: Django's ModelBackend then hashes the
        # password once, as for a real user (SECURITY.md 4). A locked-out attempt stops at
        # accounts.backends.LockoutBackend, before any hash (SECURITY.md 9).
        user = authenticate(request, username=flow.username, password=form.cleaned_data["password"],
                            preloaded_user=flow.user)  # loaded with the accounts: no second query
        if is_locked_out_request(request):
            return lockout_response(request, None, {"username": flow.username}, flow=flow)
        if user is None or not flow.is_for(user):
            form.add_error("password", WRONG)
            return self.render(request, flow, form)
        flow.proved(user, method="password")
        return runner.done()
