"""Step 1: the username, with "Next". Also where a flow starts, from the application's link."""

import re

from django import forms
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.services import applications

from ..flow import SigninFlow, is_local_url
from ..forms import AccessibleForm, refuse_control_characters
from ..passkey_page import config as passkey_config
from .base import Runner, Step

SLUG = re.compile(r"^[-a-z0-9_]{1,50}$")
ACCOUNT_HINT = re.compile(r"^[0-9A-Za-z][-0-9A-Za-z_. ]{0,63}$")


class UsernameForm(AccessibleForm):
    username = forms.CharField(
        label=gettext_lazy("Username"),
        max_length=254,
        error_messages={
            "required": gettext_lazy("Enter your username."),
            "max_length": gettext_lazy("A username is at most 254 characters."),
        },
        validators=[refuse_control_characters],
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autofocus": True, "spellcheck": "false",
                   "autocapitalize": "none", "inputmode": "email"}
        ),
    )


class UsernameStep(Step):
    name = "username"
    renders_in_place = False  # its page is at the link (/signin/?app=...) and reads its query
    template = "signin/username.html"
    form_class = UsernameForm

    def make_form(self, flow: SigninFlow, data=None) -> UsernameForm:
        return UsernameForm(data, initial={"username": flow.login_hint})

    def context(self, flow: SigninFlow) -> dict:
        # "Sign in with a passkey": the same for every visitor and username (SECURITY.md 1).
        return {"passkey_config": passkey_config(flow.request, second_factor=False)}

    def post(self, request: HttpRequest, flow: SigninFlow, runner: Runner) -> HttpResponse:
        form = UsernameForm(request.POST)
        if not form.is_valid():
            return self.render(request, flow, form)
        # Known, unknown, SSO-only and locked-out usernames all go on the same way: the response
        # to Next says nothing about who exists (SECURITY.md 1).
        flow.entered_username(form.cleaned_data["username"])
        return runner.done()


def begin_from_link(request: HttpRequest) -> tuple[SigninFlow, list[str]]:
    """A new flow from the link's query parameters, and notices about those we could not use."""
    params, notices = request.GET, []
    app_slug = params.get("app", "").strip()
    application = None
    if app_slug:
        if SLUG.match(app_slug):
            application = applications.by_slug(app_slug)
        if application is None:
            notices.append(_("This sign-in link names an application we don't know. You can still "
                             "sign in; you will go to your Personal Information page afterwards."))
            app_slug = ""
    next_url = params.get("next", "").strip()
    if next_url:
        allowed = (application.allows_redirect(next_url) if application
                   else is_local_url(request, next_url))
        if not allowed:
            if application:
                notices.append(_("This sign-in link would send you to an address we don't send "
                                 "people to. After signing in you will go to %(application)s "
                                 "instead.") % {"application": application.name})
            else:
                notices.append(_("This sign-in link would send you to an address we don't send "
                                 "people to. After signing in you will go to your Personal "
                                 "Information page instead."))
            next_url = ""
    account_hint = params.get("account", "").strip()
    if account_hint and not ACCOUNT_HINT.match(account_hint):
        notices.append(_("The account in this sign-in link is not an Account Number or Partner "
                         "Label. You can choose your account after Next."))
        account_hint = ""
    hint = params.get("login_hint", "")
    try:
        UsernameForm({"username": hint}).fields["username"].clean(hint) if hint else None
    except forms.ValidationError:
        notices.append(_("The username in this sign-in link is not valid. Type yours below."))
        hint = ""
    flow = SigninFlow.begin(request, application=application, next_url=next_url,
                            account_hint=account_hint, login_hint=hint.strip())
    return flow, notices
