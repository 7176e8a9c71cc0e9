"""The order of the sign-in steps, and the views that run whichever step is due.

Each step has its own URL (``/signin/<step>/``). Whatever URL is asked for, the controller runs
the first step that applies and is not done yet, so no step can be skipped to; a POST from a
page of another flow (an old tab) is refused.
"""

from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from .flow import SigninFlow
from .steps.account import AccountAfterPasswordStep, AccountBeforePasswordStep
from .steps.base import Step
from .steps.code import CodeStep, MfaEnrolStep
from .steps.expiry import ExpiryStep
from .steps.password import PasswordStep
from .steps.sso import SsoStep
from .steps.stay import StaySignedInStep
from .steps.username import UsernameStep

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


def advance(flow: SigninFlow) -> HttpResponse:
    """Save the flow and go to the next step that applies, or finish."""
    flow.save()
    step = current_step(flow)
    if step is None:
        return finish(flow)
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
    if flow.state.mfa_device:
        from django_otp import login as otp_login
        from django_otp.models import Device

        device = Device.from_persistent_id(flow.state.mfa_device)
        if device is not None and device.user_id == user.pk:
            otp_login(request, device)
    request.session.set_expiry(None if flow.state.stay_signed_in else 0)
    destination = flow.redirect_url()
    flow.discard()
    return HttpResponseRedirect(destination)


def signin_context(flow: SigninFlow) -> dict:
    """What the audit receivers record beside the user: account, application, method."""
    return {
        "account": flow.account,
        "application": flow.application,
        "method": flow.state.method or "password",
        "username": flow.username,
    }


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
        request.signin_context = signin_context(flow)
        return step.post(request, flow)
    return step.get(request, flow)
