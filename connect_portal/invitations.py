"""``/me/invitations/<token>/``: the invited user, signed in as themselves, accepts or declines;
a new user, who has no password yet, chooses one there."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from accounts.models import Invitation
from accounts.services import invitations
from accounts.services.totp import needs_second_factor
from signin.password_forms import NewPasswordForm

WELCOME_SESSION_KEY = "_welcome_invitation_token"
WELCOME_URL_TOKEN = "set-password"  # stands in the URL for the token once it is in the session


@never_cache
@csrf_protect
@sensitive_post_parameters()
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """A new user's link (no sign-in: they have no password yet), or an invitation to answer."""
    if token == WELCOME_URL_TOKEN:
        return choose_first_password(request)
    welcome = Invitation.objects.filter(token=token, sets_password=True).select_related("user").first()
    if welcome is not None:
        # Django's reset pattern: the token moves into the session, so no Referer carries it.
        request.session[WELCOME_SESSION_KEY] = token
        return redirect("portal:invitation", token=WELCOME_URL_TOKEN)
    return answer(request, token)


def choose_first_password(request: HttpRequest) -> HttpResponse:
    token = request.session.get(WELCOME_SESSION_KEY) or ""
    welcome = Invitation.objects.filter(token=token, sets_password=True).select_related(
        "user", "account").first() if token else None
    refusal = invitations.welcome_refusal(welcome) if welcome else "This link can't be used."
    if refusal:
        request.session.pop(WELCOME_SESSION_KEY, None)
        return TemplateResponse(request, "connect_portal/welcome_invalid.html", {"refusal": refusal})
    user = welcome.user
    form = NewPasswordForm(request.POST if request.method == "POST" else None, user=user)
    if form.is_bound and form.is_valid():
        try:
            invitations.set_first_password(welcome, form.cleaned_data["new_password1"], request=request)
        except invitations.InvitationRefused as error:
            request.session.pop(WELCOME_SESSION_KEY, None)
            return TemplateResponse(request, "connect_portal/welcome_invalid.html",
                                    {"refusal": error.messages[0]})
        request.session.pop(WELCOME_SESSION_KEY, None)
        messages.success(request, _("Your password is set. Sign in with it now."))
        return HttpResponseRedirect(f"{reverse('signin:signin')}?{urlencode({'login_hint': user.username})}")
    return TemplateResponse(request, "connect_portal/welcome.html",
                            {"form": form, "new_user": user, "account": welcome.account})


@login_required
def answer(request: HttpRequest, token: str) -> HttpResponse:
    if needs_second_factor(request):
        return redirect_to_login(request.get_full_path())
    found = get_object_or_404(Invitation.objects.select_related("account", "invited_by"), token=token)
    refusal = invitations.refusal(found, request.user)
    if refusal:
        # Another user (a contact trying the link included) learns nothing about the invitation.
        mine = found.user_id == request.user.pk
        return TemplateResponse(request, "connect_portal/invitation.html",
                                {"refusal": refusal, "invitation": found if mine else None},
                                status=200 if mine else 403)
    if request.method == "POST" and request.POST.get("answer") in {"accept", "decline"}:
        try:
            if request.POST["answer"] == "accept":
                invitations.accept(found, request.user, request=request)
                messages.success(request, _("You joined %(account)s.") % {"account": found.account.name})
            else:
                invitations.decline(found, request.user, request=request)
                messages.info(request, _("You declined the invitation to join %(account)s.")
                              % {"account": found.account.name})
        except invitations.InvitationRefused as error:
            messages.error(request, error.messages[0])
        return HttpResponseRedirect("/me/")
    return TemplateResponse(request, "connect_portal/invitation.html", {"invitation": found})
