"""The sign-in page as a new visitor first sees it: rendered once, then only filled in.

Everyone who opens the same sign-in link in the same language, with no cookie of ours yet, gets the
same page but for two random values: the CSRF token and the id of the flow the form will start.
Rendering it through the template engine was four fifths of the page's CPU (README, Benchmarks), so
each process renders it once per link and language with placeholders in their place, keeps it, and
fills in each visitor's own values. The page is the first thing any visitor and any bot asks for;
it is now not much dearer than a redirect.

Only a plain first visit is served this way: a GET, DEBUG off, no messages cookie (a message waits
to be shown, such as "You have signed out") and no session cookie (nobody signed in, nothing of
anyone's: the page shows nothing from a session today, and a page kept in memory never should).
Everything else, and any page whose placeholders do not come out as expected, is rendered as usual.
Only links many visitors share are kept (``SHARED_PARAMETERS``). The key holds everything the page
shows that is not a placeholder: the language, the whole link (path and query), the application's
name and the notices about the link.
``tests/accounts/test_first_page.py`` compares pages served from memory with pages rendered in
full. At most ``SIZE`` pages a process; links longer than ``LONGEST`` are not kept.

Two more pages of the sign-in are kept the same way, in the same memory: the next step's page
rendered in reply to a POST (``serve_in_place``), and the lockout page a locked-out attempt gets
(``serve_lockout``), which is all a bot trying a locked username ever sees. The lockout page is
kept per language, page URL, application and kind of lock; each attempt fills in its CSRF token
and the sentence saying when its lock ends, the one part rendered each time (it is in the viewer's
time zone, and the end is each lock's own). ``tests/accounts/test_lockout_page_memory.py``
compares it with the page rendered in full.
"""

import secrets
import threading
from collections.abc import Callable

from django.conf import settings
from django.contrib.messages import get_messages
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import get_template
from django.template.response import TemplateResponse
from django.utils import translation
from django.utils.html import escape

from .flow import SigninFlow
from .passkey_page import config as passkey_config
from .steps.base import Step

SIZE = 512
LONGEST = 2048
# The parameters of links an application hands to everyone. ``next`` and ``login_hint`` make a link
# for one visit (an OpenID Connect sign-in's ``next`` is its own authorize request): such a page
# would never be asked for again, so it is rendered each time and not kept.
SHARED_PARAMETERS = frozenset({"app", "account", "ui_locales"})

# Letters and digits only, so HTML and JSON escaping leave them as they are; random per process, so
# no link can carry one into the page.
CSRF_PLACEHOLDER = "csrf" + secrets.token_hex(24)
FLOW_PLACEHOLDER = "flow" + secrets.token_hex(24)
USERNAME_PLACEHOLDER = "user" + secrets.token_hex(24)
LOCK_ENDS_PLACEHOLDER = "ends" + secrets.token_hex(24)
LOCK_ENDS_TEMPLATE = "signin/_lock_ends.html"

_pages: dict[tuple, str] = {}
_lock = threading.Lock()


def forget() -> None:
    with _lock:
        _pages.clear()


@receiver(setting_changed)
def _settings_changed(**kwargs) -> None:
    forget()


def _keep(key: tuple, page: str) -> None:
    """Keep ``page`` under ``key``, forgetting every page kept when ``SIZE`` of them are."""
    with _lock:
        if len(_pages) >= SIZE:
            _pages.clear()
        _pages[key] = page


def is_plain_first_visit(request: HttpRequest) -> bool:
    return (request.method == "GET" and not settings.DEBUG
            and settings.SESSION_COOKIE_NAME not in request.COOKIES
            and "messages" not in request.COOKIES
            and len(request.get_full_path()) <= LONGEST
            and SHARED_PARAMETERS.issuperset(request.GET))


def serve(request: HttpRequest, step: Step, flow: SigninFlow, notices: list[str]) -> HttpResponse:
    """The step's page for ``flow``, from memory when this is a plain first visit."""
    if not is_plain_first_visit(request):
        return step.get(request, flow, notices=notices)
    key = (translation.get_language(), request.get_full_path(), flow.display_name,
           tuple(str(notice) for notice in notices))
    page = _pages.get(key)
    if page is None:
        page = _render_with_placeholders(request, step, flow, notices)
        if page is None:
            return step.get(request, flow, notices=notices)
        _keep(key, page)
    return HttpResponse(page.replace(CSRF_PLACEHOLDER, get_token(request))
                        .replace(FLOW_PLACEHOLDER, flow.flow_id))


def _render_with_placeholders(request: HttpRequest, step: Step, flow: SigninFlow,
                              notices: list[str]) -> str | None:
    config = passkey_config(request, second_factor=False) | {"csrfToken": CSRF_PLACEHOLDER}
    response = step.get(request, flow, notices=notices, csrf_token=CSRF_PLACEHOLDER,
                        passkey_config=config)
    if response.status_code != 200:
        return None
    page = response.render().content.decode()
    # The flow's id is random: found once, in the form, it can only be the flow's.
    if page.count(flow.flow_id) != 1 or CSRF_PLACEHOLDER not in page or FLOW_PLACEHOLDER in page:
        return None
    return page.replace(flow.flow_id, FLOW_PLACEHOLDER)


# --- The next step's page, rendered in reply to a step's POST ---------------------------------------


def serve_in_place(request: HttpRequest, step: Step, flow: SigninFlow) -> HttpResponse:
    """``step``'s page as the reply to the POST of the step before (``controller.advance``), from
    memory when the step says what else it shows (``Step.memory_key``).

    The password and "Stay signed in?" pages were the two pages of every sign-in still rendered
    through the template engine (README, Benchmarks). They differ between people in the CSRF
    token, the flow's id and the username, which are filled in; everything else they show is in
    the key. A page with a message to show is rendered each time, as is any page whose
    placeholders do not come out as expected, or which shows the person's own username anywhere
    but where its placeholder went (nothing of one person's may be kept for the next).
    """
    shown = step.memory_key(flow)
    if shown is None or settings.DEBUG or len(get_messages(request)):
        return step.get(request, flow)
    page_url = request.page_url
    key = ("in place", step.name, translation.get_language(), page_url,
           page_url != request.get_full_path(), flow.display_name, flow.app_slug, shown)
    page = _pages.get(key)
    if page is None:
        page = _render_in_place(request, step, flow)
        if page is None:
            return step.get(request, flow)
        _keep(key, page)
    return HttpResponse(page.replace(CSRF_PLACEHOLDER, get_token(request))
                        .replace(FLOW_PLACEHOLDER, flow.flow_id)
                        .replace(USERNAME_PLACEHOLDER, escape(flow.username)))


def _render_in_place(request: HttpRequest, step: Step, flow: SigninFlow) -> str | None:
    response = step.get(request, flow, csrf_token=CSRF_PLACEHOLDER, username=USERNAME_PLACEHOLDER)
    if response.status_code != 200:
        return None
    page = response.render().content.decode()
    if (CSRF_PLACEHOLDER not in page or flow.flow_id not in page or FLOW_PLACEHOLDER in page
            or (flow.username and escape(flow.username) in page)):
        return None
    return page.replace(flow.flow_id, FLOW_PLACEHOLDER)


# --- The lockout page of a sign-in ------------------------------------------------------------------


def serve_lockout(request: HttpRequest, flow: SigninFlow, context: dict,
                  render: Callable[[HttpRequest, dict], TemplateResponse], *, status: int) -> HttpResponse:
    """The lockout page a sign-in step shows (``signin.lockout.lockout_response``), from memory
    but for when the lock ends.

    A refused attempt of a locked-out username cost ten times the CPU of the sign-in page, and
    two fifths of it was rendering this page (issue 17); bots that keep trying a locked username
    ask for nothing else. The page differs between attempts in the CSRF token and in the sentence
    saying when the lock ends (``signin/_lock_ends.html``, in the viewer's language and time zone):
    the token is filled in, the sentence rendered alone. Everything else it shows is in the key:
    the language, the page's URL, the application, which locks apply. It shows no username: a page
    in which the person's own username turns up is rendered each time, as is a page with a
    message to show, or whose placeholders do not come out as expected.
    """
    page_url = getattr(request, "page_url", None) or request.get_full_path()
    if settings.DEBUG or len(get_messages(request)) or len(page_url) > LONGEST:
        return render(request, context)
    key = ("lockout", translation.get_language(), page_url, page_url != request.get_full_path(),
           flow.display_name, flow.app_slug, context["username_locked"], context["device_locked"],
           context["address_locked"], bool(context["locks"]))
    page = _pages.get(key)
    if page is None:
        page = _render_lockout(request, flow, context, render, status)
        if page is None:
            return render(request, context)
        _keep(key, page)
    ends = get_template(LOCK_ENDS_TEMPLATE).render(context)
    return HttpResponse(page.replace(CSRF_PLACEHOLDER, get_token(request))
                        .replace(LOCK_ENDS_PLACEHOLDER, ends), status=status)


def _render_lockout(request: HttpRequest, flow: SigninFlow, context: dict,
                    render: Callable[[HttpRequest, dict], TemplateResponse], status: int) -> str | None:
    response = render(request, context | {"csrf_token": CSRF_PLACEHOLDER,
                                          "lock_ends_placeholder": LOCK_ENDS_PLACEHOLDER})
    if response.status_code != status:
        return None
    page = response.render().content.decode()
    if (CSRF_PLACEHOLDER not in page or page.count(LOCK_ENDS_PLACEHOLDER) != 1
            or flow.flow_id in page or (flow.username and escape(flow.username) in page)):
        return None
    return page
