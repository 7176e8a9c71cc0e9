"""A sign-in's lockout page is rendered once per language, application and kind of lock, then filled
in (``signin/first_page.py``, ``serve_lockout``; issue 17): it must be the very page a full render
gives, with each attempt's own CSRF token and the end of its own lock, in the viewer's language and
time zone, and nothing of one person's kept for the next."""

import re
import zoneinfo
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.messages import constants
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.template.response import TemplateResponse
from django.test import Client, RequestFactory
from django.utils import timezone

from accounts import conf
from accounts.models import LockoutCounter
from accounts.services.lockouts import lock_username
from signin import first_page, lockout
from tests.signin import enter_password, enter_username, fail_password, flow_id, sign_in

pytestmark = pytest.mark.django_db

LIMIT = settings.LOCKOUT_FAILURE_LIMIT
ADDRESS = "198.51.100.30"
DEVICE_COOKIE = conf.get("LOCKOUT_DEVICE_COOKIE_NAME")
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="[A-Za-z0-9]{64}"')
ENDS = re.compile(r"<p>[^<]*<strong><time datetime=.*?</p>")
LOCK_PARAGRAPH_IDS = {"username": "lock-username", "device": "lock-device", "address": "lock-address"}


def without_tokens(content: bytes) -> str:
    return TOKEN.sub("token", content.decode())


@pytest.fixture
def renders(monkeypatch):
    """How many times the lockout page went through the template engine to be kept."""
    calls = []
    real = first_page._render_lockout

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(first_page, "_render_lockout", counted)
    return calls


def kept_lockout_pages() -> list[str]:
    return [page for key, page in first_page._pages.items() if key[0] == "lockout"]


def browser(language: str = "en", *, zone: str = "", device_cookie: str = "") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language, REMOTE_ADDR=ADDRESS)
    if zone:
        client.cookies["mitel_tz"] = zone
    if device_cookie:
        client.cookies[DEVICE_COOKIE] = device_cookie
    return client


def refused(client: Client, username: str, app: str | None):
    params = {"app": app} if app else {}
    enter_username(client, username, **params)
    response = enter_password(client, "not the password at all")
    assert response.status_code == 429, response.content.decode()[:500]
    return response


def locked(kind: str) -> tuple[str, str]:
    """A lock of ``kind`` for the next attempt from ``ADDRESS``: the username tried, and the device
    cookie the attempt must carry ("" for none)."""
    if kind == "username":
        lock_username("alice@acme.example")
        return "alice@acme.example", ""
    if kind == "address":
        now = timezone.now()
        LockoutCounter.objects.create(
            scope=LockoutCounter.Scope.ADDRESS, key=ADDRESS, failures=settings.LOCKOUT_ADDRESS_FAILURE_LIMIT,
            last_failure_at=now, locked_until=now + settings.LOCKOUT_ADDRESS_COOLOFF, lockouts=1)
        return "carol@acme.example", ""
    # The browser's own device cookie, locked by its wrong passwords.
    client = browser()
    sign_in(client, "alice@acme.example")
    cookie = client.cookies[DEVICE_COOKIE].value
    fail_password(browser(device_cookie=cookie), "alice@acme.example", times=LIMIT)
    return "alice@acme.example", cookie


def rendered_in_full(monkeypatch, action):
    with monkeypatch.context() as patched:
        patched.setattr(first_page, "serve_lockout",
                        lambda request, flow, context, render, status: render(request, context))
        return action()


@pytest.mark.parametrize("app", [None, "miteam-meetings"])
@pytest.mark.parametrize("kind", ["username", "device", "address"])
@pytest.mark.parametrize("language", ["en", "fr", "de"])
def test_the_lockout_page_from_memory_is_the_page_rendered_in_full(demo, monkeypatch, renders, language,
                                                                   kind, app):
    username, cookie = locked(kind)
    first_page.forget()  # the device's lock was started by attempts that showed the page
    renders.clear()
    attempt = lambda: refused(browser(language, device_cookie=cookie), username, app)  # noqa: E731
    attempt()
    served = attempt()
    full = rendered_in_full(monkeypatch, attempt)

    assert len(renders) == 1, "the second attempt's page came from memory"
    assert served.status_code == full.status_code == 429
    page = served.content.decode()
    assert without_tokens(served.content) == without_tokens(full.content)
    assert f'<html lang="{language}">' in page
    assert f'id="{LOCK_PARAGRAPH_IDS[kind]}"' in page
    assert ENDS.search(page), "the end of the lock is shown"
    if app:
        assert "MiTeam Meetings" in page and 'href="/signin/?app=miteam-meetings"' in page
    else:
        assert 'href="/signin/"' in page
    assert sorted(served.headers) == sorted(full.headers)
    for header in ("Content-Type", "Cache-Control", "Content-Security-Policy", "Vary"):
        assert served.headers.get(header) == full.headers.get(header), header
    for placeholder in (first_page.CSRF_PLACEHOLDER, first_page.LOCK_ENDS_PLACEHOLDER):
        assert placeholder not in page


def test_each_attempt_gets_the_end_of_its_own_lock_in_its_own_time_zone(demo, monkeypatch, renders):
    lock_username("alice@acme.example")
    earlier = lock_username("carol@acme.example", now=timezone.now() - timedelta(minutes=7))
    refused(browser(zone="Europe/Paris"), "alice@acme.example", "miteam-meetings")
    tokyo = browser(zone="Asia/Tokyo")
    served = refused(tokyo, "carol@acme.example", "miteam-meetings")
    assert len(renders) == 1, "the second page came from memory"

    page = served.content.decode()
    ends = earlier.locked_until.astimezone(zoneinfo.ZoneInfo("Asia/Tokyo"))
    assert f'<time datetime="{ends.isoformat()}">{ends:%H:%M} JST on ' in page
    assert served.context["ends_at"] == earlier.locked_until
    full = rendered_in_full(monkeypatch, lambda: refused(tokyo, "carol@acme.example", "miteam-meetings"))
    assert without_tokens(served.content) == without_tokens(full.content)


def test_the_kept_page_holds_nothing_of_the_person(demo, renders):
    lock_username("alice@acme.example")
    page = refused(browser(), "alice@acme.example", "miteam-meetings").content.decode()
    [kept] = kept_lockout_pages()
    assert "alice" not in kept and "alice" not in page
    assert first_page.CSRF_PLACEHOLDER in kept and kept.count(first_page.LOCK_ENDS_PLACEHOLDER) == 1
    assert ENDS.search(page) and not ENDS.search(kept)


def test_every_attempt_gets_a_token_of_its_own(demo):
    lock_username("alice@acme.example")
    pages = [refused(browser(), "alice@acme.example", None).content.decode() for _ in range(3)]
    assert len({TOKEN.search(page).group(0) for page in pages}) == 3


def rendered_each_time(page: str) -> None:
    """A page rendered in full is the whole page for this attempt: its token, its lock and end."""
    assert "Your sign-in is locked" in page and TOKEN.search(page)
    assert 'id="lock-username"' in page and ENDS.search(page)


def test_a_username_that_turns_up_in_the_page_is_rendered_each_time(demo, renders):
    lock_username("mitel")  # found in the page anyway: the logo's file name
    for _ in range(2):
        rendered_each_time(refused(browser(), "mitel", None).content.decode())
    assert len(renders) == 2 and not kept_lockout_pages()


def test_a_render_without_its_placeholders_is_not_kept(demo, monkeypatch, renders):
    """A template that no longer shows the sentence where its placeholder goes (or no token) must
    not be kept: every attempt would get a page without its own end of lock."""
    real = lockout.render

    def without(placeholder):
        def render(request, context):
            response = real(request, context)
            if context.get(placeholder) or placeholder == "csrf_token":
                response.render()
                value = first_page.LOCK_ENDS_PLACEHOLDER if placeholder != "csrf_token" else (
                    first_page.CSRF_PLACEHOLDER)
                response.content = response.content.replace(value.encode(), b"")
            return response
        return render

    lock_username("alice@acme.example")
    for placeholder in ("lock_ends_placeholder", "csrf_token"):
        monkeypatch.setattr(lockout, "render", without(placeholder))
        first_page.forget()
        refused(browser(), "alice@acme.example", None)
        assert not kept_lockout_pages(), placeholder


@pytest.mark.parametrize("extra, kept", [(0, True), (1, False)], ids=["longest kept", "longer not"])
def test_links_longer_than_the_longest_are_not_kept(demo, renders, extra, kept):
    lock_username("alice@acme.example")
    client = browser()
    enter_username(client, "alice@acme.example")
    path = "/signin/authenticate/?pad="
    path += "x" * (first_page.LONGEST + extra - len(path))
    for _ in range(2):
        page = client.post(path, {"flow": flow_id(client), "password": "not the password at all"})
        assert page.status_code == 429
        rendered_each_time(page.content.decode())
    assert len(renders) == (1 if kept else 0)
    assert bool(kept_lockout_pages()) is kept


def test_with_debug_on_the_page_is_rendered_each_time(demo, settings, renders):
    settings.DEBUG = True
    lock_username("alice@acme.example")
    for _ in range(2):
        rendered_each_time(refused(browser(), "alice@acme.example", None).content.decode())
    assert renders == [] and not kept_lockout_pages()


def test_someone_with_a_message_waiting_sees_it(demo, renders):
    lock_username("alice@acme.example")
    refused(browser(), "alice@acme.example", None)
    client = browser()
    enter_username(client, "alice@acme.example")
    storage = CookieStorage(RequestFactory().get("/"))
    client.cookies["messages"] = storage._encode([Message(constants.INFO, "A message for you")])
    page = enter_password(client, "not the password at all")
    assert page.status_code == 429
    assert "A message for you" in page.content.decode()
    assert page.templates[0].name == "signin/locked_out.html", "rendered in full"
    assert "A message for you" not in refused(browser(), "alice@acme.example", None).content.decode()
    assert len(renders) == 1


def test_the_connect_portal_page_is_rendered_as_before(demo):
    """Without a flow (the Connect Portal's password forms), the page is rendered, never kept."""
    lock_username("alice@acme.example")
    request = RequestFactory().post("/me/", REMOTE_ADDR=ADDRESS)
    response = lockout.lockout_response(request, None, {"username": "alice@acme.example"})
    assert isinstance(response, TemplateResponse) and response.is_lockout_page
    assert response.status_code == 429
    assert not first_page._pages


def test_a_page_from_memory_is_marked_as_the_lockout_page(demo, renders):
    """Callers that pass the step's response on (``original_response``) return it unchanged."""
    lock_username("alice@acme.example")
    refused(browser(), "alice@acme.example", None)
    served = refused(browser(), "alice@acme.example", None)
    assert len(renders) == 1 and served.is_lockout_page
    assert lockout.lockout_response(RequestFactory().post("/"), served) is served
