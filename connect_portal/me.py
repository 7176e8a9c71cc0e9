"""``/me/``, Personal Information: the signed-in user's own details, accounts, roles and sign-ins."""

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import i18n
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django_otp import user_has_device

from accounts.models import AuditEvent, User
from accounts.services import passkeys
from accounts.services import sessions as user_sessions
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


def set_language(request: HttpRequest) -> HttpResponse:
    """The language switcher of every page (Django's ``set_language``: a cookie, then back). For a
    signed-in person it is also the language of their e-mails from now on (``User.language``)."""
    response = i18n.set_language(request)
    language = request.POST.get("language", "") if request.method == "POST" else ""
    user = request.user
    if (language in dict(settings.LANGUAGES) and user.is_authenticated and user.language != language
            and not needs_second_factor(request)):
        User.objects.filter(pk=user.pk).update(language=language)
    return response


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
        "passkeys": passkeys.passkeys_of(user),
        "portal_access": admin.site.has_permission(request),
    }
    return render(request, "connect_portal/personal_information.html", context)


@login_required
@never_cache
@csrf_protect
def sessions(request: HttpRequest) -> HttpResponse:
    """``/me/sessions/``: where the person is signed in; sign one other session out, or all of them.

    Sessions are named by ``handle``, never by their key: the page shows no credential.
    """
    if needs_second_factor(request):
        return redirect_to_login(request.get_full_path())
    user = request.user
    if request.method == "POST":
        if "everywhere" in request.POST:
            user_sessions.end_every_session(user, request=request)
            logout(request)
            return redirect("signin:signin")
        if user_sessions.end_session(user, request.POST.get("session", ""), request=request):
            messages.success(request, _("That session is signed out."))
        else:
            messages.error(request, _("That session had already ended."))
        return redirect("portal:sessions")
    return render(request, "connect_portal/sessions.html", {
        "sessions": user_sessions.sessions_of(user, request=request)})
