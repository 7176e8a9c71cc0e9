"""Scale-out: two app processes on one PostgreSQL and one Redis behave as one site.

Each test starts two real gunicorn processes on free loopback ports, pointed at this test's database
(committed data: ``transactional_db``) and at the Redis of the ``redis_url`` fixture. A visitor's
cookies go to both, as behind a load balancer without sticky sessions.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from django.conf import settings

from accounts.models import AuditEvent
from tests.factories import PASSWORD, ApplicationFactory, MembershipFactory

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

ROOT = Path(__file__).resolve().parent.parent
FAILURE_LIMIT = 3
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
FLOW = re.compile(r'name="flow" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_database_url() -> str:
    db = settings.DATABASES["default"]
    credentials = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


test_database_url.__test__ = False  # a helper, not a test


class App:
    """One gunicorn process of the site."""

    def __init__(self, port: int, process: subprocess.Popen) -> None:
        self.port, self.process = port, process
        self.base = f"http://127.0.0.1:{port}"


@pytest.fixture
def two_apps(transactional_db, redis_url, tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": test_database_url(),
        "REDIS_URL": redis_url,
        "HTTPS": "0",
        "DEBUG": "0",
        "TRUSTED_PROXY_COUNT": "1",
        "LOCKOUT_FAILURE_LIMIT": str(FAILURE_LIMIT),
    }
    env.pop("CACHE_URL", None)
    apps = []
    try:
        for name in ("a", "b"):
            port = free_port()
            log = open(tmp_path / f"gunicorn-{name}.log", "wb")  # noqa: SIM115 - closed with the process
            process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "mitel_portal.wsgi:application",
                 "--bind", f"127.0.0.1:{port}", "--workers", "1", "--timeout", "30"],
                cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True,
            )
            apps.append(App(port, process))
        deadline = time.monotonic() + 25
        for app in apps:
            while True:
                try:
                    # The port answers as soon as gunicorn binds it; the worker may still be loading.
                    if requests.get(f"{app.base}/healthz", timeout=10).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                if app.process.poll() is not None or time.monotonic() > deadline:
                    logs = "".join(p.read_text() for p in tmp_path.glob("gunicorn-*.log"))
                    pytest.fail(f"an app process did not start:\n{logs[-3000:]}")
                time.sleep(0.1)
        yield apps
    finally:
        for app in apps:
            if app.process.poll() is None:
                os.killpg(app.process.pid, signal.SIGINT)  # gunicorn's quick shutdown
        for app in apps:
            try:
                app.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(app.process.pid, signal.SIGKILL)
                app.process.wait()


class Visitor:
    """One browser, sending each request to the process the test names (cookies go to both)."""

    def __init__(self, ip: str = "198.51.100.10") -> None:
        self.http = requests.Session()
        self.ip = ip
        self.csrf = self.flow = ""

    def get(self, app: App, path: str) -> requests.Response:
        response = self.http.get(app.base + path, allow_redirects=False, timeout=10,
                                 headers={"X-Forwarded-For": self.ip})
        if response.status_code == 200 and (token := CSRF.search(response.text)):
            self.csrf = token.group(1)
            self.flow = FLOW.search(response.text).group(1)
        return response

    def post(self, app: App, path: str, data: dict) -> requests.Response:
        data = {"csrfmiddlewaretoken": self.csrf, "flow": self.flow, **data}
        return self.http.post(app.base + path, data=data, allow_redirects=False, timeout=10,
                              headers={"X-Forwarded-For": self.ip})


def test_a_sign_in_begun_on_one_process_finishes_on_the_other(two_apps, redis_url):
    a, b = two_apps
    app = ApplicationFactory()
    user = MembershipFactory().user
    visitor = Visitor()

    assert visitor.get(a, f"/signin/?app={app.slug}").status_code == 200
    next_ = visitor.post(a, f"/signin/?app={app.slug}", {"username": user.username})
    assert next_.status_code == 302 and next_.headers["Location"] == "/signin/authenticate/"

    password_page = visitor.get(b, "/signin/authenticate/")
    assert password_page.status_code == 200
    assert "Enter your password" in password_page.text and user.username in password_page.text
    password = visitor.post(b, "/signin/authenticate/", {"password": PASSWORD})
    assert password.status_code == 302 and password.headers["Location"] == "/signin/stay/"

    assert visitor.get(a, "/signin/stay/").status_code == 200
    done = visitor.post(a, "/signin/stay/", {"stay": "yes"})
    assert done.status_code == 302 and done.headers["Location"] == app.home_url

    from accounts.models import UserSession

    session = UserSession.objects.get(session_key=visitor.http.cookies["sessionid"])
    assert session.get_decoded()["_auth_user_id"] == str(user.pk) and session.user_id == user.pk
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.SIGN_IN, user=user).count() == 1

    # The cache both processes use is the one Redis: each writes /healthz's key there.
    import redis

    server = redis.Redis.from_url(redis_url)
    for process in (a, b):
        server.delete(":1:healthz")
        assert requests.get(f"{process.base}/healthz", timeout=5).json()["cache"] == "ok"
        assert server.get(":1:healthz") is not None


def test_a_lockout_counts_the_failures_made_on_both_processes(two_apps):
    a, b = two_apps
    app = ApplicationFactory()
    user = MembershipFactory().user
    visitor = Visitor()
    visitor.get(a, f"/signin/?app={app.slug}")
    visitor.post(a, f"/signin/?app={app.slug}", {"username": user.username})
    visitor.get(b, "/signin/authenticate/")

    statuses = []
    for attempt, process in enumerate([a, b, a][:FAILURE_LIMIT]):
        # A new address for every attempt, so only the username's count can reach the limit.
        visitor.ip = f"203.0.113.{attempt + 1}"
        statuses.append(visitor.post(process, "/signin/authenticate/",
                                     {"password": "wrong password"}).status_code)
    assert statuses == [200] * (FAILURE_LIMIT - 1) + [429]

    visitor.ip = "203.0.113.99"
    right_password = visitor.post(b, "/signin/authenticate/", {"password": PASSWORD})
    assert right_password.status_code == 429
    assert "Your sign-in is locked" in right_password.text
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.SIGN_IN).exists()

    from accounts.models import LockoutCounter

    assert LockoutCounter.objects.get(scope="username", key=user.username).failures == FAILURE_LIMIT
