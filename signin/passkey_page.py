"""What a sign-in page tells its passkey script (``static/js/passkey-signin.js``, which reads the
settings django-otp-webauthn's own script reads): where to post, and the CSRF token."""

from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.urls import reverse


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
    }
