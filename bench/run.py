"""``make bench``: the sign-in under gunicorn on PostgreSQL and Redis, as ratios measured in one run.

Run from the project root: ``python -m bench.run``. It creates two PostgreSQL databases of its own, a
small data set (100 users) and a copy grown to the large one (100,000 users, 10,000 accounts), drops
both at the end, uses Redis DB 9 (flushed before and after), starts gunicorn on free loopback ports
with as many workers as the machine has cores, and prints one JSON object on stdout (progress goes to
stderr; a copy is kept in bench/results/).

Every figure is a ratio of two measurements taken in this run, interleaved where they are rates or
times, because the machine is shared and noisy: absolute numbers are for the record only. The app runs
with the production settings (DEBUG off, the production Argon2id hasher) plus a trivial view
(bench/settings.py), behind a pretend load balancer: ``TRUSTED_PROXY_COUNT=1`` and an
``X-Forwarded-For`` address per visitor, so that lockouts by address do not stop the load.
"""

import argparse
import json
import logging
import os
import platform
import random
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from .client import CSRF, Browser, expect
from .load import HashWorkers, children, cpu_seconds, load_average, median, run_count, run_for

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
REDIS_DB = 9
APP = "scale-app"
APP_HOME = "https://app.scale.example/"
WRONG_PASSWORD = "Not-the-password-2026"

OIDC_CLIENT_ID = "scale-oidc-client"
OIDC_REDIRECT_URI = "https://app.scale.example/callback"

TARGETS = {
    "login_efficiency": (">=", 0.5),
    "vs_stock_login": (">=", 0.8),
    "app_signin_efficiency": (">=", 0.4),
    "page_efficiency": (">=", 0.6),
    "lockout_cost": ("<=", 1.5),
    "enumeration_gap": ("<=", 0.05),
    "reset_enumeration_gap": ("<=", 0.05),
    "admin_scaling": ("<=", 2.0),
}
# Queries of each request of the sign-in (the four of a full password sign-in, and the failures), and
# of the four together: at most these, and the same at every size.
MAX_QUERIES_PER_REQUEST = 5
MAX_QUERIES_PER_SIGN_IN = 20
SIGN_IN_REQUESTS = ("page", "username", "password", "stay")


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


_ip_counter = iter(range(1, 1 << 24))


def visitor_ip() -> str:
    """A fresh client address for each visitor, as a load balancer would pass it on."""
    n = next(_ip_counter)
    return f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the environment: database, Redis, gunicorn ----------------------------------------------------

def postgres_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres"),
                         autocommit=True) as connection:
        connection.execute(sql)


def flush_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url, socket_connect_timeout=2).flushdb()


@contextmanager
def gunicorn(workers: int, database: str, log_file: Path, threads: int = 1):
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "mitel_portal.wsgi:application",
               "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--threads", str(threads),
               "--timeout", "120", "--log-level", "warning"]
    env = {**os.environ, "DATABASE_URL": database_url(database)}
    with open(log_file, "ab") as output:  # Django logs to stderr, as in production: keep it here
        process = subprocess.Popen(command, cwd=ROOT, start_new_session=True, env=env,  # noqa: S603
                                   stdout=output, stderr=output)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if Browser(port, "127.0.0.1").get("/healthz").status == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start; see {log_file}")
            time.sleep(0.2)
        while len(children(process.pid)) < workers:
            time.sleep(0.1)
        yield port, process.pid
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def database_url(database: str) -> str:
    server = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres")
    return server.rsplit("/", 1)[0] + "/" + database


def use_database(database: str) -> None:
    """Point this process's Django connection at another database (the bench has two)."""
    from django.db import connections

    connections.close_all()
    connections["default"].settings_dict["NAME"] = database


def configure_environment(database: str) -> str:
    from applications.keys import generate_pem

    redis_url = os.environ.get("BENCH_REDIS_URL", f"redis://127.0.0.1:6379/{REDIS_DB}")
    os.environ.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DATABASE_URL=database_url(database),
        REDIS_URL=redis_url,
        SECRET_KEY="bench-" + secrets.token_urlsafe(48),
        DEBUG="0",
        HTTPS="0",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        PUBLIC_URL="http://127.0.0.1",
        TRUSTED_PROXY_COUNT="1",
        LOG_LEVEL="WARNING",
        OIDC_RSA_PRIVATE_KEY=generate_pem(),  # signs the ID tokens of app_signin_efficiency
    )
    os.environ.pop("CACHE_URL", None)
    return redis_url


# --- the data -----------------------------------------------------------------------------------------

def generate(users: int) -> float:
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("generate_scale_data", users=users, stdout=sys.stderr)
    return time.perf_counter() - started


def username(index: int) -> str:
    from accounts.management.commands.generate_scale_data import scale_username

    return scale_username(index)


class single_account_users:  # noqa: N801 - used as an iterator, like a generator function
    """Users from ``start`` on who belong to one account (no "Multiple accounts located" step).

    An iterator that load threads may share (a generator may not be advanced from two threads).
    """

    def __init__(self, start: int) -> None:
        from accounts.management.commands.generate_scale_data import MULTI_ACCOUNT_EVERY

        self.index, self.every, self.lock = start, MULTI_ACCOUNT_EVERY, threading.Lock()

    def __iter__(self):
        return self

    def __next__(self) -> int:
        with self.lock:
            while self.index % self.every == self.every - 1:
                self.index += 1
            self.index += 1
            return self.index - 1


def register_oidc_client() -> None:
    """An application that starts sign-ins with OpenID Connect: a public client (PKCE, no secret
    to hash beside the password), first-party (no consent page), for ``app_signin_efficiency``."""
    from accounts.models import Application

    Application.objects.update_or_create(
        slug="scale-oidc", defaults={
            "name": "Scale OpenID Connect application", "home_url": APP_HOME,
            "client_id": OIDC_CLIENT_ID, "client_type": Application.CLIENT_PUBLIC,
            "client_secret": "", "hash_client_secret": False, "redirect_uris": OIDC_REDIRECT_URI,
            "skip_authorization": True})


def lock_out(username_: str) -> None:
    """Record as many recent failures for the username as the lockout limit (from another address)."""
    from accounts.services.lockouts import lock_username

    lock_username(username_, address="198.51.100.7")


def session_for(username_: str) -> str:
    """A signed-in session for the user, made directly (as ``login()`` would), not through the UI."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    from accounts.models import User

    user = User.objects.get(username=username_)
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


# --- queries_per_step: in-process, Django's test client, the bench database --------------------------

def count_queries(first: int, password: str) -> dict[str, int]:
    """Database queries of each request of a sign-in, for users ``first`` .. ``first + 2``."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    counts: dict[str, int] = {}
    page_url = f"/signin/?app={APP}"

    def step(name: str | None, call, status: int):
        with CaptureQueriesContext(connection) as captured:
            response = call()
        if response.status_code != status:
            raise RuntimeError(f"{name}: {response.status_code} {response.content[:300]!r}")
        if name:
            counts[name] = len(captured.captured_queries)
        return response

    def flow_of(response) -> str:
        return response.content.decode().split('name="flow" value="', 1)[1].split('"', 1)[0]

    def start(who: str, names: tuple = (None, None)) -> tuple[Client, str]:
        """The sign-in page, and Next answered with the password page (as the page's script asks:
        ``in_place``); returns the client and the flow's id."""
        client = Client(HTTP_HOST="127.0.0.1", HTTP_X_FORWARDED_FOR=visitor_ip())
        page = step(names[0], lambda: client.get(page_url), 200)
        return client, flow_of(step(names[1], lambda: client.post(page_url, {
            "username": who, "flow": flow_of(page), "in_place": "1"}), 200))

    def post(client: Client, path: str, flow: str, **fields):
        return lambda: client.post(path, {"flow": flow, "in_place": "1", **fields})

    client, flow = start(username(first), ("page", "username"))
    step("password", post(client, "/signin/authenticate/", flow, password=password), 200)
    step("stay", post(client, "/signin/stay/", flow, stay="yes"), 302)

    client, flow = start(username(first + 1))
    step("password_wrong", post(client, "/signin/authenticate/", flow, password=WRONG_PASSWORD), 200)

    client, flow = start(f"nobody-{first}@nowhere.example", (None, "username_unknown"))
    step("password_unknown", post(client, "/signin/authenticate/", flow, password=WRONG_PASSWORD), 200)

    lock_out(username(first + 2))
    client, flow = start(username(first + 2))
    step("password_locked_out", post(client, "/signin/authenticate/", flow, password=password), 429)
    return counts


# --- admin_scaling --------------------------------------------------------------------------------------

def admin_roles() -> dict[str, str]:
    from accounts.management.commands.generate_scale_data import ADMIN_USERNAME, SUPPORT_USERNAME

    return {
        "contact": username(0),  # Decision Maker of account 0 (ten users)
        "support": SUPPORT_USERNAME,
        "superuser": ADMIN_USERNAME,
    }


ADMIN_PAGES = {
    "list": "/admin/accounts/user/",
    "search": "/admin/accounts/user/?q=user00004",  # ten users at both sizes (user000040-49)
}
CONTACT_PAGES = {
    "list": "/admin/accounts/user/",
    "search": "/admin/accounts/user/?q=user000003",  # in the contact's own account
}


def admin_sessions() -> dict[str, str]:
    """A signed-in session per role, made in the database directly."""
    return {role: session_for(who) for role, who in admin_roles().items()}


def admin_paths() -> dict[str, str]:
    return {f"{role}_{page}": path
            for role in admin_roles()
            for page, path in (CONTACT_PAGES if role == "contact" else ADMIN_PAGES).items()}


def admin_queries(sessions: dict[str, str]) -> dict:
    """Status, queries and rows of each admin page, in-process, on the current database."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    result = {}
    for name, path in admin_paths().items():
        client = Client(HTTP_HOST="127.0.0.1")
        client.cookies["sessionid"] = sessions[name.split("_")[0]]
        client.get(path)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
        result[name] = {
            "status": response.status_code,
            "queries": len(captured.captured_queries),
            "rows_shown": response.content.count(b'class="action-checkbox"')
            if response.status_code == 200 else None,
        }
    return result


def admin_times(small_port: int, large_port: int, sessions: dict[str, str], samples: int) -> dict:
    """Median time of each admin page on the small and the large data set, requests interleaved.

    Two app servers, one per data set, asked in turn: noise from the rest of the machine falls
    on both sizes alike.
    """
    result = {}
    for name, path in admin_paths().items():
        browsers = {}
        for size, port in (("small", small_port), ("large", large_port)):
            browsers[size] = Browser(port, visitor_ip())
            browsers[size].cookies["sessionid"] = sessions[name.split("_")[0]]
            for _ in range(3):
                browsers[size].get(path)
        times: dict[str, list[float]] = {"small": [], "large": []}
        for _ in range(samples):
            for size, browser in browsers.items():
                times[size].append(browser.get(path).seconds)
        small, large = median(times["small"]), median(times["large"])
        result[name] = {"ms_small": round(small * 1000, 2), "ms_large": round(large * 1000, 2),
                        "ratio": round(large / small, 3)}
    return result


def admin_summary(rows: dict) -> tuple[float | None, dict]:
    """The worst large/small time ratio of the pages contacts and support can open.

    Until the Connect Portal lets them in (on a branch without it, a contact is sent to the login
    page and support is refused), the superuser's pages are measured instead, and the summary
    says so.
    """
    opened = {name: row for name, row in rows.items()
              if row["status"] == 200 and not name.startswith("superuser")}
    measured_as = "contact and support"
    if not opened:
        opened = {name: row for name, row in rows.items() if row["status"] == 200}
        measured_as = ("superuser only: contacts and support cannot open the user list with this "
                       "admin (statuses in pages)")
    ratio = max((row["ratio"] for row in opened.values()), default=None)
    return ratio, {
        "model_admin": admin_registered(),
        "measured_as": measured_as,
        "queries_same": all(row["queries_small"] == row["queries_large"] for row in opened.values()),
        "pages": rows,
    }


def admin_registered() -> str:
    from django.contrib import admin

    from accounts.models import User

    model_admin = admin.site._registry.get(User)
    return f"{type(model_admin).__module__}.{type(model_admin).__qualname__}" if model_admin else "none"


# --- the measurements -----------------------------------------------------------------------------------

def hasher_record(password: str, encoded: str) -> dict:
    from django.contrib.auth.hashers import check_password, get_hasher, identify_hasher

    hasher = identify_hasher(encoded)
    check_password(password, encoded)
    times = []
    for _ in range(30):
        started = time.perf_counter()
        check_password(password, encoded)
        times.append(time.perf_counter() - started)
    ms = median(times) * 1000
    default = get_hasher()
    return {
        "hasher": f"{type(default).__module__}.{type(default).__qualname__}",
        "params": {"memory_kib": hasher.memory_cost, "time_cost": hasher.time_cost,
                   "parallelism": hasher.parallelism},
        "ms_per_check": round(ms, 1),
        "logins_per_second_per_core": round(1000 / ms, 1),
    }


def login_efficiency(port: int, concurrency: int, hash_workers: HashWorkers, password: str, encoded: str,
                     rounds: int, seconds: float, users, worker_pids: list[int]) -> dict:
    """Full sign-ins per second over check_password calls per second, same processes, interleaved;
    in the same rounds, Django's own LoginView (``vs_stock_login``) and the sign-in an application
    starts with OpenID Connect, code exchange included (``app_signin_efficiency``).

    Each kind's CPU is also taken over its rounds, at load (``cpu_ms_at_load``): the gunicorn
    workers, the PostgreSQL backends serving them, and this process's client threads. One request
    at a time (``step_costs``) costs more per request than the same request at load, since each
    request then wakes an idle worker: these are the figures the throughput ratios are made of."""
    rates: dict[str, list[float]] = {"hash": [], "ours": [], "stock": [], "app": []}
    cpu: dict[str, list[tuple[float, float, float]]] = {"ours": [], "stock": [], "app": []}

    def sign_in(_n: int) -> None:
        Browser(port, visitor_ip()).sign_in(APP, username(next(users)), password, lands_on=APP_HOME)

    def stock(_n: int) -> None:
        Browser(port, visitor_ip()).stock_sign_in(username(next(users)), password)

    def app(_n: int) -> None:
        token = Browser(port, visitor_ip()).app_sign_in(OIDC_CLIENT_ID, OIDC_REDIRECT_URI,
                                                        username(next(users)), password)
        if "id_token" not in token:
            raise RuntimeError(f"the code exchange gave no ID token: {token}")

    for task in (sign_in, stock, app):
        run_for(2, concurrency, task)  # warm up: imports, connections, templates
    hash_cpu: list[float] = []
    for _ in range(rounds):
        before = cpu_seconds(hash_workers.pids())
        rates["hash"].append(hash_workers.rate(seconds, password, encoded))
        hash_cpu.append((cpu_seconds(hash_workers.pids()) - before) / hash_workers.last_count)
        for name, task in (("ours", sign_in), ("stock", stock), ("app", app)):
            db_pids = database_pids()  # each round's: a backend may have been replaced
            before = (cpu_seconds(worker_pids), cpu_seconds(db_pids), time.process_time())
            completed, elapsed = run_for(seconds, concurrency, task)
            after = (cpu_seconds(worker_pids), cpu_seconds(db_pids), time.process_time())
            rates[name].append(completed / elapsed)
            cpu[name].append(tuple((b - a) / completed for a, b in zip(before, after, strict=True)))
    ours = [o / h for o, h in zip(rates["ours"], rates["hash"], strict=True)]
    vs_stock = [o / s for o, s in zip(rates["ours"], rates["stock"], strict=True)]
    app_ratio = [a / h for a, h in zip(rates["app"], rates["hash"], strict=True)]
    hash_ms = median(hash_cpu) * 1000
    at_load = {name: {part: round(median([row[i] for row in rows]) * 1000, 2)
                      for i, part in enumerate(("app_cpu_ms", "db_cpu_ms", "client_cpu_ms"))}
               for name, rows in cpu.items()}
    for figures in at_load.values():
        figures["server_cpu_ms"] = round(figures["app_cpu_ms"] + figures["db_cpu_ms"], 2)
    at_load["check_password"] = {"app_cpu_ms": round(hash_ms, 2)}
    at_load["hash_share_of_sign_in_server_cpu"] = round(hash_ms / at_load["ours"]["server_cpu_ms"], 3)
    return {"ratio": round(median(ours), 3), "rounds": [round(r, 3) for r in ours],
            "cpu_ms_at_load": at_load,
            "sign_ins_per_second": round(median(rates["ours"]), 1),
            "check_password_per_second": round(median(rates["hash"]), 1), "concurrency": concurrency,
            "vs_stock_login": {"ratio": round(median(vs_stock), 3),
                               "rounds": [round(r, 3) for r in vs_stock],
                               "stock_sign_ins_per_second": round(median(rates["stock"]), 1)},
            "app_signin_efficiency": {"ratio": round(median(app_ratio), 3),
                                      "rounds": [round(r, 3) for r in app_ratio],
                                      "app_sign_ins_per_second": round(median(rates["app"]), 1)}}


def database_pids() -> list[int]:
    """The PostgreSQL backends serving the app (every connection to the bench database but ours)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                       "AND backend_type = 'client backend' AND pid <> pg_backend_pid()")
        return [row[0] for row in cursor.fetchall()]


def step_costs(port: int, worker_pids: list[int], password: str, encoded: str, users,
               flows: int) -> dict:
    """CPU of each request of a sign-in, in the app workers and in PostgreSQL, one request at a time.

    Not a target: it shows where a sign-in's time goes beside the hash. One ``check_password`` in
    this process per sign-in gives the hash's CPU at the same moments (``check_password``).
    """
    from django.contrib.auth.hashers import check_password

    db_pids = database_pids()
    costs: dict[str, list[tuple[float, float]]] = {}

    def measured(name: str, call, *args):
        app, db = cpu_seconds(worker_pids), cpu_seconds(db_pids)
        response = call(*args)
        costs.setdefault(name, []).append((cpu_seconds(worker_pids) - app, cpu_seconds(db_pids) - db))
        return response

    for _ in range(flows):
        b = Browser(port, visitor_ip())
        measured("page", b.open_signin, APP)
        measured("username", b.submit_username, username(next(users)))
        b.read(measured("password", b.submit_password, password), "the stay page")
        measured("stay", b.submit_stay)
        measured("trivial", b.get, "/bench/trivial/")
        started = time.process_time()
        check_password(password, encoded)
        costs.setdefault("check_password", []).append((time.process_time() - started, 0.0))
    return {name: {"app_cpu_ms": round(median([a for a, _ in values]) * 1000, 2),
                   "db_cpu_ms": round(median([d for _, d in values]) * 1000, 2)}
            for name, values in costs.items()}


def page_efficiency(port: int, concurrency: int, worker_pids: list[int], rounds: int, seconds: float) -> dict:
    """Sign-in page GETs per second over a trivial view's GETs per second, interleaved."""
    ratios, pages, trivials, cpu_ratios = [], [], [], []

    def page(_n: int) -> None:
        expect(Browser(port, visitor_ip()).get(f"/signin/?app={APP}"), 200, "the sign-in page")

    def trivial(_n: int) -> None:
        expect(Browser(port, visitor_ip()).get("/bench/trivial/"), 200, "the trivial view")

    def measured(task) -> tuple[float, float]:
        cpu = cpu_seconds(worker_pids)
        completed, elapsed = run_for(seconds, concurrency, task)
        return completed / elapsed, (cpu_seconds(worker_pids) - cpu) / completed

    run_for(1, concurrency, page)
    run_for(1, concurrency, trivial)
    for _ in range(rounds):
        trivial_rate, trivial_cpu = measured(trivial)
        page_rate, page_cpu = measured(page)
        ratios.append(page_rate / trivial_rate)
        cpu_ratios.append(trivial_cpu / page_cpu)
        pages.append((page_rate, page_cpu))
        trivials.append((trivial_rate, trivial_cpu))
    return {
        "ratio": round(median(ratios), 3), "rounds": [round(r, 3) for r in ratios],
        "page_gets_per_second": round(median(p[0] for p in pages), 1),
        "trivial_gets_per_second": round(median(t[0] for t in trivials), 1),
        "page_cpu_ms": round(median(p[1] for p in pages) * 1000, 2),
        "trivial_cpu_ms": round(median(t[1] for t in trivials) * 1000, 2),
        "cpu_ratio": round(median(cpu_ratios), 3),
    }


def lockout_cost(port: int, concurrency: int, worker_pids: list[int], password: str, locked: str,
                 attempts: int, rounds: int) -> dict:
    """Worker CPU per locked-out password attempt over worker CPU per sign-in page GET."""
    lock_out(locked)
    browsers = []
    for _ in range(concurrency):
        browser = Browser(port, visitor_ip())
        browser.open_signin(APP)
        browser.submit_username(locked)
        browsers.append(browser)
    # One browser per thread, each its own flow: n % concurrency is fixed per thread only on
    # average, so give each call a browser of its own turn instead.
    turn = iter(range(1 << 30))

    def attempt(_n: int) -> None:
        browser = browsers[next(turn) % concurrency]
        response = browser.submit_password(password)
        expect(response, 429, "a locked-out attempt")

    def page(_n: int) -> None:
        expect(Browser(port, visitor_ip()).get(f"/signin/?app={APP}"), 200, "the sign-in page")

    def cpu_per(task) -> float:
        before = cpu_seconds(worker_pids)
        run_count(attempts, concurrency, task)
        return (cpu_seconds(worker_pids) - before) / attempts

    run_count(20, concurrency, attempt)
    ratios, locked_cpu, page_cpu = [], [], []
    for _ in range(rounds):
        page_cpu.append(cpu_per(page))
        locked_cpu.append(cpu_per(attempt))
        ratios.append(locked_cpu[-1] / page_cpu[-1])
    return {"ratio": round(median(ratios), 3), "rounds": [round(r, 3) for r in ratios],
            "locked_out_attempt_cpu_ms": round(median(locked_cpu) * 1000, 2),
            "page_get_cpu_ms": round(median(page_cpu) * 1000, 2), "attempts": attempts}


def interleaved_gap(time_one, known_users, samples: int, *, seed: int, prefix: str,
                    known_label: str) -> dict:
    """Median seconds of ``time_one(username)`` for unknown vs. known usernames.

    One request at a time, the two kinds interleaved in a random order, after three of each to warm
    up. ``paired_gap`` is the median of the differences within each pair, for the record: less
    sensitive to the machine's load changing during the run.
    """
    unknown, known = [], []
    rng = random.Random(seed)  # an order, not a secret
    for i in range(3):
        time_one(f"warm-{prefix}{i}@nowhere.example")
        time_one(username(next(known_users)))
    for i in range(samples):
        pair = [("unknown", f"nobody-{prefix}{i}-{secrets.token_hex(3)}@nowhere.example"),
                ("known", username(next(known_users)))]
        rng.shuffle(pair)
        for kind, who in pair:
            (unknown if kind == "unknown" else known).append(time_one(who))
    gap = abs(median(unknown) - median(known)) / median(known)
    paired = median([u - k for u, k in zip(unknown, known, strict=True)]) / median(known)
    return {"ratio": round(gap, 4), "unknown_user_ms": round(median(unknown) * 1000, 2),
            f"{known_label}_ms": round(median(known) * 1000, 2), "samples_each": samples,
            "paired_gap": round(paired, 4)}


def enumeration_gap(port: int, samples: int, known_users) -> dict:
    """Median time of a password POST for unknown users vs. known users with a wrong password.

    Each on a fresh flow and address (so no lockout is reached).
    """

    def attempt(who: str) -> float:
        browser = Browser(port, visitor_ip())
        browser.open_signin(APP)
        browser.submit_username(who)
        response = browser.submit_password(WRONG_PASSWORD)
        expect(response, 200, "a wrong password")
        if b"The username or password is incorrect." not in response.body:
            raise RuntimeError("a wrong password did not say so")
        return response.seconds

    return interleaved_gap(attempt, known_users, samples, seed=9, prefix="",
                           known_label="wrong_password")


def reset_enumeration_gap(port: int, samples: int, known_users) -> dict:
    """Median time of a forgot-password POST for unknown users vs. known users.

    Each from a fresh browser and address (so no per-address limit is reached); known users are all
    different (no per-user limit either). Only the POST is timed: the request stores a task, and the
    e-mail is the worker's (none runs here, so none is sent).
    """

    def ask(who: str) -> float:
        browser = Browser(port, visitor_ip())
        page = browser.get("/password/forgot/")
        expect(page, 200, "the forgot-password page")
        browser.csrf = CSRF.search(page.body).group(1).decode()
        response = browser.request("POST", "/password/forgot/",
                                   {"csrfmiddlewaretoken": browser.csrf, "login": who})
        expect(response, 302, "forgot password", location="/password/forgot/sent/")
        return response.seconds

    return interleaved_gap(ask, known_users, samples, seed=42, prefix="reset-", known_label="known_user")


# --- the run ------------------------------------------------------------------------------------------

def machine() -> dict:
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    import redis

    redis_version = redis.Redis.from_url(os.environ["REDIS_URL"]).info("server")["redis_version"]
    memory_kb = int(Path("/proc/meminfo").read_text().split("MemTotal:", 1)[1].split()[0])
    return {"cpus": os.cpu_count(), "model": model, "memory_gb": round(memory_kb / 2**20, 1),
            "python": platform.python_version(),
            "postgresql": postgres, "redis": redis_version, "kernel": platform.release()}


def queries_within_limits(by_size: dict[str, dict[str, int]]) -> bool:
    """The same at every size, at most ``MAX_QUERIES_PER_REQUEST`` for any request, at most
    ``MAX_QUERIES_PER_SIGN_IN`` for the four requests of a sign-in."""
    sizes = list(by_size.values())
    return (all(size == sizes[0] for size in sizes)
            and max(sizes[0].values()) <= MAX_QUERIES_PER_REQUEST
            and sum(sizes[0][name] for name in SIGN_IN_REQUESTS) <= MAX_QUERIES_PER_SIGN_IN)


def verdicts(result: dict) -> dict:
    met = {}
    for name, (op, target) in TARGETS.items():
        value = result.get(name)
        if value is None:
            met[name] = None
            continue
        met[name] = value >= target if op == ">=" else value <= target
    met["queries_per_step"] = queries_within_limits(result["queries_per_step"]["by_size"])
    if met["admin_scaling"] is not None:
        met["admin_scaling"] = met["admin_scaling"] and result["admin"]["queries_same"]
    return met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=100, help="users in the small data set")
    parser.add_argument("--large", type=int, default=100_000, help="users in the large data set")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--threads", type=int, default=1,
                        help="threads per gunicorn worker (more than 1: the gthread worker)")
    parser.add_argument("--rounds", type=int, default=6, help="interleaved rounds of each rate")
    parser.add_argument("--seconds", type=float, default=4.0, help="length of one throughput round")
    parser.add_argument("--samples", type=int, default=80, help="enumeration samples of each kind")
    parser.add_argument("--lockout-attempts", type=int, default=300)
    parser.add_argument("--keep-database", action="store_true", help="keep both databases")
    args = parser.parse_args(argv)

    small_db = f"mitel_bench_run_{os.getpid()}_small"
    large_db = f"mitel_bench_run_{os.getpid()}_large"
    redis_url = configure_environment(small_db)
    RESULTS.mkdir(parents=True, exist_ok=True)
    log(f"databases {small_db}, {large_db}; Redis {redis_url}; {args.workers} gunicorn workers")
    for database in (small_db, large_db):
        postgres_admin(f'DROP DATABASE IF EXISTS "{database}"')
    postgres_admin(f'CREATE DATABASE "{small_db}"')
    flush_redis(redis_url)
    hash_workers = None
    started = time.time()
    load_before = load_average()
    try:
        import django

        django.setup()
        logging.disable(logging.WARNING)  # the in-process steps' failure logs are expected
        from django.conf import settings
        from django.contrib.auth.hashers import make_password
        from django.core.management import call_command

        from accounts.management.commands.generate_scale_data import DEFAULT_PASSWORD

        call_command("migrate", verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        password = DEFAULT_PASSWORD
        encoded = make_password(password)
        result: dict = {"machine": machine(), "workers": args.workers, "threads": args.threads,
                        "hasher": hasher_record(password, encoded)}
        log(f"hasher: {result['hasher']}")

        # Two data sets: the small one, then a copy of it grown to the large size.
        generated, queries, admin_counts = {}, {}, {}
        generated[args.small] = round(generate(args.small), 1)
        register_oidc_client()  # copied to the large data set with the rest
        sessions = admin_sessions()  # copied to the large data set with the rest
        use_database(large_db)  # closes this process's connections, so the copy can be made
        postgres_admin(f'CREATE DATABASE "{large_db}" TEMPLATE "{small_db}"')
        use_database(small_db)
        for size, database, first in ((args.small, small_db, 1),
                                      (args.large, large_db, args.large // 2 + 1)):
            use_database(database)
            if size != args.small:
                generated[size] = round(generate(size), 1)
                log(f"{size} users generated in {generated[size]} s")
            warm = count_queries(first, password)  # the first pass fills per-process caches
            queries[size] = count_queries(first + 10, password)
            if warm != queries[size]:
                log(f"queries differ between two passes at {size}: {warm} {queries[size]}")
            admin_counts[size] = admin_queries(sessions)
            log(f"queries at {size}: {queries[size]}; admin: {admin_counts[size]}")
        result["data"] = {"users": [args.small, args.large],
                          "accounts": [-(-args.small // 10), -(-args.large // 10)],
                          "generate_seconds": generated}
        result["queries_per_step"] = {"by_size": {str(k): v for k, v in queries.items()}}

        hash_workers = HashWorkers(args.workers)
        with gunicorn(args.workers, large_db, RESULTS / "gunicorn.log", args.threads) as (port, master):
            with gunicorn(args.workers, small_db, RESULTS / "gunicorn-small.log") as (small_port, _):
                log("admin pages, small and large in turn")
                times = admin_times(small_port, port, sessions, samples=25)
            small, large = admin_counts[args.small], admin_counts[args.large]
            admin_rows = {
                name: {"status": large[name]["status"], "rows_shown": large[name]["rows_shown"],
                       **times[name], "queries_small": small[name]["queries"],
                       "queries_large": large[name]["queries"]}
                for name in large
            }
            result["admin_scaling"], result["admin"] = admin_summary(admin_rows)
            log(f"admin: {result['admin']}")

            worker_pids = children(master)
            concurrency = args.workers * args.threads * 2  # enough to keep every worker busy
            users = single_account_users(args.large // 5)
            log("login efficiency")
            login = login_efficiency(port, concurrency, hash_workers, password, encoded, args.rounds,
                                     args.seconds, users, worker_pids)
            costs = step_costs(port, worker_pids, password, encoded, users, 20)
            per_sign_in = sum(cost["app_cpu_ms"] + cost["db_cpu_ms"] for name, cost in costs.items()
                              if name not in ("trivial", "check_password"))
            result["login_efficiency"] = login["ratio"]
            result["vs_stock_login"] = login["vs_stock_login"]["ratio"]
            result["app_signin_efficiency"] = login["app_signin_efficiency"]["ratio"]
            result["login"] = {
                **login,
                "cpu_ms_by_request": costs,
                "cpu_ms_per_sign_in": round(per_sign_in, 1),
                # One request at a time, each waking an idle worker: more CPU per request than at
                # load (cpu_ms_at_load above), but it shows which request costs what.
                "hash_share_of_sign_in_cpu": round(costs["check_password"]["app_cpu_ms"] / per_sign_in, 3),
            }
            log(f"login: {result['login']}")
            log("page efficiency")
            page = page_efficiency(port, concurrency, worker_pids, args.rounds, args.seconds / 2)
            result["page_efficiency"], result["page"] = page["ratio"], page
            log(f"page: {page}")
            log("lockout cost")
            lockout = lockout_cost(port, concurrency, worker_pids, password,
                                   username(args.large - 5), args.lockout_attempts, args.rounds)
            lockout["check_password_cpu_ms"] = result["hasher"]["ms_per_check"]
            result["lockout_cost"], result["lockout"] = lockout["ratio"], lockout
            log(f"lockout: {lockout}")
            log("enumeration gap")
            gap = enumeration_gap(port, args.samples, single_account_users(args.large * 9 // 10))
            result["enumeration_gap"], result["enumeration"] = gap["ratio"], gap
            log(f"enumeration: {gap}")
            log("reset enumeration gap")
            reset = reset_enumeration_gap(port, args.samples, single_account_users(args.large * 7 // 10))
            result["reset_enumeration_gap"], result["reset_enumeration"] = reset["ratio"], reset
            log(f"reset enumeration: {reset}")
        by_size = result["queries_per_step"]["by_size"]
        sizes = list(by_size.values())
        result["queries_per_step"]["same_at_every_size"] = all(size == sizes[0] for size in sizes)
        result["queries_per_step"]["max_per_request"] = max(sizes[0].values())
        result["queries_per_step"]["sign_in_total"] = sum(sizes[0][n] for n in SIGN_IN_REQUESTS)
        result["targets"] = {name: f"{op} {target}" for name, (op, target) in TARGETS.items()}
        result["targets"]["queries_per_step"] = (
            f"the same at every size, <= {MAX_QUERIES_PER_REQUEST} a request, "
            f"<= {MAX_QUERIES_PER_SIGN_IN} a sign-in")
        result["met"] = verdicts(result)
        result["load_average"] = {"before": load_before, "after": load_average()}
        result["seconds"] = round(time.time() - started)
        result["when"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        result["settings"] = {"LOCKOUT_FAILURE_LIMIT": settings.LOCKOUT_FAILURE_LIMIT,
                              "SESSION_ENGINE": settings.SESSION_ENGINE,
                              "CACHE": settings.CACHES["default"]["BACKEND"]}
    finally:
        if hash_workers is not None:
            hash_workers.close()
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: S110 - Django may not be set up yet
            pass
        if not args.keep_database:
            for database in (small_db, large_db):
                postgres_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        flush_redis(redis_url)
    text = json.dumps(result, indent=2)
    (RESULTS / f"bench-{result['when']}.json").write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
