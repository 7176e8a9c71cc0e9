"""What a sign-in page tells its passkey script (``static/js/passkey-signin.js``, which reads the
settings django-otp-webauthn's own script reads): where to post, the CSRF token, and the words of
its status line in the page's language (the script has no catalogue of its own)."""

from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils.translation import gettext as _


def config(request: HttpRequest, *, second_factor: bool) -> dict:
    """The settings the page's script reads (``json_script``: data, not an inline script)."""
    query = request.GET.urlencode()
    suffix = f"?{query}" if query and not second_factor else ""
    prefix = "signin:passkey_code_" if second_factor else "signin:passkey_"
    return {
        "beginAuthenticationUrl": reverse(f"{prefix}begin") + suffix,
        "completeAuthenticationUrl": reverse(f"{prefix}complete") + suffix,
        # The browser's passkey autofill on the username field (conditional mediation): where the
        # browser offers it, the script makes its autocomplete "username webauthn".
        "autocompleteLoginFieldSelector": None if second_factor else "#id_username",
        "csrfToken": get_token(request),  # sent back as X-CSRFToken (the cookie is HttpOnly)
        "messages": {
            "waiting": _("Waiting for your passkey…"),
            "notChosen": _("No passkey was chosen."),
            "notAllowed": _("No passkey was used: it was cancelled, or none on this device is for "
                            "this sign-in."),
            "notUsed": _("Your passkey could not be used. Try again."),
            "notChecked": _("Your passkey could not be checked. Try again."),
        },
    }
