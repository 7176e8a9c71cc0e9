"""``/signout/``: POST ends the session; GET asks first (a link must not sign anyone out)."""

from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from .flow import is_local_url


@never_cache
@csrf_protect
def signout(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        logout(request)  # flushes the session: the old cookie opens nothing
        messages.success(request, gettext("You have signed out."))
        target = request.POST.get("next", "")
        return redirect(target if target and is_local_url(request, target) else "signin:signin")
    return TemplateResponse(request, "signin/signout.html", {})
