"""``/me/``, Personal Information: the signed-in user's own details, accounts, roles and sign-ins."""

from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_otp import user_has_device

from accounts.models import AuditEvent
from accounts.services.invitations import pending_for
from accounts.services.memberships import own_memberships
from accounts.services.totp import needs_second_factor

SIGN_IN_KINDS = (
    AuditEvent.Kind.SIGN_IN,
    AuditEvent.Kind.SIGN_IN_FAILED,
    AuditEvent.Kind.LOCKED_OUT,
    AuditEvent.Kind.SSO_MISMATCH,
    AuditEvent.Kind.MFA_FAILED,
)
RECENT_ACTIVITY = 10


@login_required
def personal_information(request: HttpRequest) -> HttpResponse:
    if needs_second_factor(request):
        return redirect_to_login(request.get_full_path())
    user = request.user
    context = {
        "memberships": own_memberships(user).select_related("account").order_by("account__name"),
        "activity": AuditEvent.objects.filter(user=user, kind__in=SIGN_IN_KINDS)
        .select_related("account", "application")[:RECENT_ACTIVITY],
        "invitations": pending_for(user),
        "has_mfa": user_has_device(user, confirmed=True),
        "portal_access": admin.site.has_permission(request),
    }
    return render(request, "connect_portal/personal_information.html", context)
