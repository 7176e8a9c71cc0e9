"""The order of the sign-in steps, the views that run whichever step is due, and ``resume``.

Each step has its own URL (``/signin/<step>/``). Whatever URL is asked for, the controller runs
the first step that applies and is not done yet, so no step can be skipped to; a POST from a
page of another flow (an old tab) is refused. Steps never import this module: each is handed a
``StepRunner`` to say that it is done, as authentik's stages end with ``executor.stage_ok()``.
"""

from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from accounts.middleware import SIGNIN_ACCOUNT_SESSION_KEY, SIGNIN_METHOD_SESSION_KEY
from accounts.models import User
from accounts.services.totp import needs_second_factor

from . import first_page
from .flow import SigninFlow
from .steps.account import AccountAfterPasswordStep, AccountBeforePasswordStep
from .steps.base import Step
from .steps.code import CodeStep, MfaEnrolStep
from .steps.expiry import ExpiryStep
from .steps.password import PasswordStep, sso_offered
from .steps.sso import SsoStep
from .steps.stay import StaySignedInStep
from .steps.username import UsernameStep, begin_from_link

STEPS: list[Step] = [
    UsernameStep(),
    AccountBeforePasswordStep(),
    SsoStep(),  # before the password: it also covers SSO accounts that cannot take one yet
    PasswordStep(),
    AccountAfterPasswordStep(),
    CodeStep(),
    MfaEnrolStep(),
    ExpiryStep(),
    StaySignedInStep(),
]


def current_step(flow: SigninFlow) -> Step | None:
    for step in STEPS:
        if not flow.is_done(step.name) and step.applies(flow):
            return step
    return None


def step_url(step: Step) -> str:
    if step.slug == "username":
        return reverse("signin:signin")
    return reverse("signin:step", args=[step.slug])


class StepRunner:
    """What a step is handed to end its turn: ``done()`` or ``proceed()``."""

    def __init__(self, flow: SigninFlow, step: Step) -> None:
        self.flow = flow
        self.step = step

    def done(self) -> HttpResponse:
        """The step did its job: record it and go on."""
        self.flow.step_done(self.step.name)
        return advance(self.flow)

    def proceed(self) -> HttpResponse:
        """Go on without marking the step done (the user changed a choice that skips it)."""
        return advance(self.flow)


def advance(flow: SigninFlow) -> HttpResponse:
    """Save the flow and go to the next step that applies, or finish.

    The next step's page is the reply to this POST when the form asked for it (``in_place``,
    which static/js/forms.js adds): the browser then puts the step's URL in the address bar, so
    Reload and Back ask for it with a GET, as after a redirect, and the redirect's request is
    saved. Without the script, or for a step whose page does more than render, a redirect."""
    flow.save()
    step = current_step(flow)
    if step is None:
        return finish(flow)
    request = flow.request
    if step.renders_in_place and request.POST.get("in_place") == "1":
        request.page_url = step_url(step)
        return first_page.serve_in_place(request, step, flow)
    return HttpResponseRedirect(step_url(step))


def finish(flow: SigninFlow) -> HttpResponse:
    """Every step is done: log the user in and send them to the application."""
    request, user = flow.request, flow.user
    if not flow.is_authenticated or user is None or not user.is_active:
        flow.discard()
        return redirect("signin:signin")
    request.signin_context = signin_context(flow)
    # The flow has proven the user by its own means (password through authenticate(), or SSO),
    # so the backend named here only loads the user on later requests.
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    if flow.second_factor:
        from django_otp import login as otp_login
        from django_otp.models import Device

        device = Device.from_persistent_id(flow.second_factor)
        if device is not None and device.user_id == user.pk:
            otp_login(request, device)
    request.session.set_expiry(None if flow.stay_signed_in else 0)
    destination = flow.redirect_url()
    flow.discard()
    return HttpResponseRedirect(destination)


def signin_context(flow: SigninFlow) -> dict:
    """What the audit receivers record beside the user: account, application, method, and
    whether the proof was the session's own, carried to another account (``switch_account``)."""
    return {
        "account": flow.account,
        "application": flow.application,
        "method": flow.method or "password",
        "carried_proof": True if flow.carried_proof else None,
    }


def run(step: Step, request: HttpRequest, flow: SigninFlow) -> HttpResponse:
    """Hand the POST to ``step``, with the flow's audit context on the request."""
    request.signin_context = signin_context(flow)
    return step.post(request, flow, StepRunner(flow, step))


@never_cache
@csrf_protect
def signin(request: HttpRequest) -> HttpResponse:
    """``/signin/``: starts a flow from the link (GET) and takes the username (POST)."""
    step = STEPS[0]
    if request.method == "POST":
        flow = SigninFlow.load(request)
        if flow is None or request.POST.get("flow") != flow.flow_id:
            flow, _ = begin_from_link(request)
            flow.save()
        return run(step, request, flow)
    # The page stores nothing: the form posts back to this URL, query string included, and the
    # POST starts the flow. So an anonymous GET writes no session row (cheap, and no table growth
    # for whoever requests the page in a loop).
    flow, notices = begin_from_link(request)
    if request.user.is_authenticated and not needs_second_factor(request):
        return HttpResponseRedirect(flow.redirect_url())
    return first_page.serve(request, step, flow, notices)


@never_cache
@csrf_protect
@sensitive_post_parameters("password", "code")
def signin_step(request: HttpRequest, slug: str) -> HttpResponse:
    flow = SigninFlow.load(request)
    if flow is None:
        return redirect("signin:signin")
    step = current_step(flow)
    if step is None:
        return finish(flow)
    if step.slug != slug:
        return HttpResponseRedirect(step_url(step))
    if request.method == "POST":
        if request.POST.get("flow") != flow.flow_id:
            return HttpResponseRedirect(step_url(step))
        return run(step, request, flow)
    return step.get(request, flow)


def switch_account(request: HttpRequest, *, application, next_url: str, account_hint: str = "",
                   choose: bool = False) -> HttpResponse:
    """A signed-in person whom an application sends to another of their accounts (``account_hint``)
    or back to the account picker (``choose``): a flow that starts from the session's proof, so
    only the picker is asked, unless the account chosen needs a proof the session lacks (its own
    identity provider, or a password). Ends where ``next_url`` says, like any sign-in."""
    session = request.session
    device = getattr(request.user, "otp_device", None)  # set by django-otp once verified
    flow = SigninFlow.switching_account(
        request, user=request.user, application=application, next_url=next_url,
        account_hint=account_hint, choose=choose,
        method=session.get(SIGNIN_METHOD_SESSION_KEY) or "password",
        account_id=session.get(SIGNIN_ACCOUNT_SESSION_KEY),
        second_factor=device.persistent_id if device is not None else "",
        stay_signed_in=not session.get_expire_at_browser_close())
    return advance(flow)


# --- resuming a flow from outside (Single Sign On, password reset) ---------------------------

class PausedFlow:
    """A flow seen from outside ``signin/``: what it is for, and the moves others may make."""

    def __init__(self, flow: SigninFlow) -> None:
        self._flow = flow

    # What others may read of the flow; everything else stays inside signin/.
    READABLE = frozenset({"flow_id", "username", "display_name", "user", "account", "application",
                          "app_slug"})

    def __getattr__(self, name: str):
        if name in self.READABLE:
            return getattr(self._flow, name)
        raise AttributeError(name)

    @property
    def url(self) -> str:
        """Where this browser's sign-in stands now."""
        step = current_step(self._flow)
        return step_url(step) if step is not None else reverse("signin:signin")

    def is_for(self, user: User) -> bool:
        return self._flow.is_for(user)

    def waiting_for_sso(self, account_id: int) -> bool:
        """Whether the flow stands at the Single Sign On step of this very account."""
        step = current_step(self._flow)
        account = self._flow.account
        return (step is not None and isinstance(step, SsoStep) and account is not None
                and account.pk == account_id and sso_offered(self._flow))

    def proved_by_sso(self, user: User, *, method: str) -> HttpResponse:
        """The account's identity provider vouched for ``user``: record it and go on."""
        self._flow.proved(user, method=method)
        self._flow.step_done(SsoStep.name)
        return advance(self._flow)

    def restart_at_password(self) -> HttpResponse:
        """A new password was set: prove it again, then every step after it (SECURITY.md 14)."""
        self._flow.restart_at_password()
        self._flow.save()
        return HttpResponseRedirect(self.url)


def resume(request: HttpRequest) -> PausedFlow | None:
    """The sign-in this browser has in progress, if any: the one way in for code outside it."""
    flow = SigninFlow.load(request)
    return PausedFlow(flow) if flow is not None else None
