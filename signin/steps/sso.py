"""Step 3, Single Sign On: a button that sends the user to the account's identity provider."""

from django.http import HttpRequest, HttpResponse

from accounts.services.domains import domain_of

from ..flow import SigninFlow
from .base import Runner, Step
from .password import sso_offered, sso_required


def sso_unavailable(flow: SigninFlow) -> bool:
    """An SSO account whose identity provider cannot sign this username in (a provider outside
    its beta, or a username outside the account's verified domains), for a user who cannot use a
    password there: there is nothing to type, so say so instead of asking for one."""
    account = flow.account
    if account is None or not account.uses_sso or sso_offered(flow):
        return False
    if not account.password_allowed:
        return True
    # Only now: loading the user for everyone would cost a query.
    return flow.user is not None and not flow.user.has_usable_password()


class SsoStep(Step):
    name = "sso"
    slug = "authenticate"
    template = "signin/sso.html"

    def applies(self, flow: SigninFlow) -> bool:
        return not flow.is_authenticated and (sso_required(flow) or sso_unavailable(flow))

    def context(self, flow: SigninFlow) -> dict:
        account = flow.account
        available = sso_offered(flow)
        return {"offer_password": available and account.allow_password_sign_in,
                "sso_available": available,
                "in_beta_only": not account.sso_enabled,
                "domain": domain_of(flow.username)}

    def post(self, request: HttpRequest, flow: SigninFlow, runner: Runner) -> HttpResponse:
        """"Enter your password". The Single Sign On button posts to ``sso:start`` instead."""
        action = request.POST.get("action")
        if action == "password" and self.context(flow)["offer_password"]:
            flow.chose_password()
            return runner.proceed()
        if action == "change_account" and flow.account_was_chosen:
            flow.change_account()
            return runner.proceed()
        return self.get(request, flow)
