"""Template context every page shares."""

from django.http import HttpRequest


def page_url(request: HttpRequest) -> dict:
    """``page_url``: the URL the page belongs at, which its forms post to and the language switcher
    returns to. The request's own, except for a sign-in step rendered in reply to the POST of the
    step before (``signin.controller.advance``): that step's URL, which ``page_moved`` asks
    static/js/forms.js to put in the address bar, so that Reload and Back ask for the step's page
    and never post again."""
    own = request.get_full_path()
    shown = getattr(request, "page_url", None) or own
    return {"page_url": shown, "page_moved": shown != own}
