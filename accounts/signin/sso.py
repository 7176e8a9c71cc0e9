"""Step 3, Single Sign On: a button that sends the user to the account's identity provider."""

from django.http import HttpRequest, HttpResponse

from .base import Step
from .flow import SigninFlow
from .password import sso_required


class SsoStep(Step):
    name = "sso"
    slug = "authenticate"
    template = "accounts/signin/sso.html"

    def applies(self, flow: SigninFlow) -> bool:
        return not flow.is_authenticated and sso_required(flow)

    def context(self, flow: SigninFlow) -> dict:
        return {"offer_password": flow.account.allow_password_sign_in}

    def post(self, request: HttpRequest, flow: SigninFlow) -> HttpResponse:
        from .controller import advance

        if request.POST.get("action") == "password" and flow.account.allow_password_sign_in:
            flow.state.use_password = True
            return advance(flow)
        from sso.services.login import start_login

        return start_login(request, flow)
