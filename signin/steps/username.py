"""Step 1: the username, with "Next". Also where a flow starts, from the application's link."""

import re

from django import forms
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from accounts.models import Application

from ..flow import FlowState, SigninFlow, is_local_url
from ..forms import AccessibleForm, refuse_control_characters
from .base import Step

SLUG = re.compile(r"^[-a-z0-9_]{1,50}$")
ACCOUNT_HINT = re.compile(r"^[0-9A-Za-z][-0-9A-Za-z_. ]{0,63}$")


class UsernameForm(AccessibleForm):
    username = forms.CharField(
        label="Username",
        max_length=254,
        error_messages={
            "required": "Enter your username.",
            "max_length": "A username is at most 254 characters.",
        },
        validators=[refuse_control_characters],
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autofocus": True, "spellcheck": "false",
                   "autocapitalize": "none", "inputmode": "email"}
        ),
    )


class UsernameStep(Step):
    name = "username"
    template = "signin/username.html"
    form_class = UsernameForm

    def post(self, request: HttpRequest, flow: SigninFlow) -> HttpResponse:
        from ..controller import advance

        form = UsernameForm(request.POST)
        if not form.is_valid():
            return self.render(request, flow, form)
        # Known, unknown, SSO-only and locked-out usernames all go on the same way: the response
        # to Next says nothing about who exists (SECURITY.md 1).
        flow.set_username(form.cleaned_data["username"])
        return advance(flow)


def start_flow(request: HttpRequest, *, save: bool = True) -> tuple[SigninFlow, list[str]]:
    """A new flow from the link's query parameters, and notices about those we could not use."""
    params, notices = request.GET, []
    app_slug = params.get("app", "").strip()
    application = None
    if app_slug:
        if SLUG.match(app_slug):
            application = Application.objects.filter(slug=app_slug).first()
        if application is None:
            notices.append("This sign-in link names an application we don't know. You can still "
                           "sign in; you will go to your Personal Information page afterwards.")
            app_slug = ""
    next_url = params.get("next", "").strip()
    if next_url:
        allowed = (application.allows_redirect(next_url) if application
                   else is_local_url(request, next_url))
        if not allowed:
            where = application.name if application else "your Personal Information page"
            notices.append(f"This sign-in link would send you to an address we don't send people "
                           f"to. After signing in you will go to {where} instead.")
            next_url = ""
    account_hint = params.get("account", "").strip()
    if account_hint and not ACCOUNT_HINT.match(account_hint):
        notices.append("The account in this sign-in link is not an Account Number or Partner "
                       "Label. You can choose your account after Next.")
        account_hint = ""
    hint = params.get("login_hint", "")
    try:
        UsernameForm({"username": hint}).fields["username"].clean(hint) if hint else None
    except forms.ValidationError:
        notices.append("The username in this sign-in link is not valid. Type yours below.")
        hint = ""
    flow = SigninFlow(request, FlowState(app_slug=app_slug, next_url=next_url,
                                         account_hint=account_hint))
    flow.__dict__["application"] = application  # looked up above: no second query
    flow.state.extra["login_hint"] = hint.strip()
    if save:
        flow.save()
    return flow, notices


def needs_second_factor(request: HttpRequest) -> bool:
    """A session signed in without the code of a device the user has (one set up elsewhere since).

    Sending it on to the application would loop: the Connect Portal refuses it and sends it here.
    It signs in again instead, code included.
    """
    from django_otp import user_has_device

    return not request.user.is_verified() and user_has_device(request.user, confirmed=True)


@never_cache
@csrf_protect
def signin(request: HttpRequest) -> HttpResponse:
    """``/signin/``: starts a flow from the link (GET) and takes the username (POST)."""
    step = UsernameStep()
    if request.method == "POST":
        flow = SigninFlow.load(request)
        if flow is None or request.POST.get("flow") != flow.flow_id:
            flow, _ = start_flow(request)
        return step.post(request, flow)
    # The page stores nothing: the form posts back to this URL, query string included, and the
    # POST starts the flow. So an anonymous GET writes no session row (cheap, and no table growth
    # for whoever requests the page in a loop).
    flow, notices = start_flow(request, save=False)
    if request.user.is_authenticated and not needs_second_factor(request):
        destination = flow.redirect_url()
        flow.discard()
        return HttpResponseRedirect(destination)
    form = UsernameForm(initial={"username": flow.state.extra.get("login_hint", "")})
    return step.render(request, flow, form, notices=notices, status=200)
