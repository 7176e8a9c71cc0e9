"""``/me/invitations/<token>/``: the invited user, signed in as themselves, accepts or declines."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.views.decorators.cache import never_cache

from accounts.models import Invitation
from accounts.services import invitations
from accounts.services.totp import needs_second_factor


@never_cache
@login_required
def invitation(request: HttpRequest, token: str) -> HttpResponse:
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
                messages.success(request, f"You joined {found.account.name}.")
            else:
                invitations.decline(found, request.user, request=request)
                messages.info(request, f"You declined the invitation to join {found.account.name}.")
        except invitations.InvitationRefused as error:
            messages.error(request, error.messages[0])
        return HttpResponseRedirect("/me/")
    return TemplateResponse(request, "connect_portal/invitation.html", {"invitation": found})
