"""Step 3, Single Sign On: a button that sends the user to the account's identity provider."""

from django.http import HttpRequest, HttpResponse

from ..flow import SigninFlow
from .base import Runner, Step
from .password import sso_required


def sso_not_yet_available(flow: SigninFlow) -> bool:
    """An SSO account whose provider is not offered yet (Okta outside the beta), for a user
    without a password: there is nothing to type, so say so instead of asking for one."""
    account = flow.account
    return (
        account is not None
        and account.uses_sso
        and not account.sso_enabled
        and flow.user is not None  # only now: loading the user for everyone would cost a query
        and not flow.user.has_usable_password()
    )


class SsoStep(Step):
    name = "sso"
    slug = "authenticate"
    template = "signin/sso.html"

    def applies(self, flow: SigninFlow) -> bool:
        return not flow.is_authenticated and (sso_required(flow) or sso_not_yet_available(flow))

    def context(self, flow: SigninFlow) -> dict:
        available = flow.account.sso_enabled
        return {"offer_password": available and flow.account.allow_password_sign_in,
                "sso_available": available}

    def post(self, request: HttpRequest, flow: SigninFlow, runner: Runner) -> HttpResponse:
        """"Enter your password". The Single Sign On button posts to ``sso:start`` instead."""
        if request.POST.get("action") == "password" and self.context(flow)["offer_password"]:
            flow.chose_password()
            return runner.proceed()
        return self.get(request, flow)
