"""Step 5, password expiry: expired, a new password before going on; expiring soon, now or later.

Only for sign-ins by Mitel's own means (a password, or a passkey: the account's password policy
still holds for its users): the password of a Single Sign On user is their identity provider's
business. The policy is the strictest of the user's accounts (``services.passwords``).
"""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from accounts.services.passwords import PasswordExpiry, change_password, password_expiry

from ..flow import SigninFlow
from ..password_forms import NewPasswordForm
from .base import Runner, Step


class ExpiryStep(Step):
    name = "expiry"
    renders_in_place = False  # its page reads the query string (?change=now)
    template = "signin/expiry.html"

    def applies(self, flow: SigninFlow) -> bool:
        return flow.proved_by_mitel and self.expiry(flow).due

    @staticmethod
    def expiry(flow: SigninFlow) -> PasswordExpiry:
        return password_expiry(flow.user, accounts=flow.accounts)  # loaded already: no query

    def make_form(self, flow: SigninFlow, data=None) -> NewPasswordForm:
        return NewPasswordForm(data, user=flow.user)

    def get(self, request: HttpRequest, flow: SigninFlow, **extra) -> HttpResponse:
        expiry = self.expiry(flow)
        changing = expiry.expired or request.GET.get("change") == "now"
        return self.render(request, flow, self.make_form(flow) if changing else None, expiry=expiry)

    def post(self, request: HttpRequest, flow: SigninFlow, runner: Runner) -> HttpResponse:
        request.sensitive_post_parameters = "__ALL__"  # new passwords stay out of error reports
        expiry = self.expiry(flow)
        if request.POST.get("action") == "later" and not expiry.expired:
            return runner.done()
        form = self.make_form(flow, request.POST)
        if not form.is_valid():
            return self.render(request, flow, form, expiry=expiry)
        change_password(flow.user, form.cleaned_data["new_password1"], request=request,
                        reason="expired" if expiry.expired else "expiring")
        messages.success(request, _("Your password has been changed."))
        return runner.done()
