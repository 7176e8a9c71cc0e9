"""A small HTTP client that signs in the way a browser does, with as little client-side work as possible.

``http.client`` rather than ``requests``: the load generator shares two cores with the app and the
database, so every millisecond it spends is one the server does not get.
"""

import http.client
import re
import time
from dataclasses import dataclass
from urllib.parse import urlencode

FLOW = re.compile(rb'name="flow" value="([^"]+)"')
CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class Response:
    status: int
    location: str
    body: bytes
    seconds: float


class BenchError(RuntimeError):
    pass


class Browser:
    """One visitor: a cookie jar, and a client address passed as a load balancer would pass it."""

    def __init__(self, port: int, ip: str, host: str = "127.0.0.1") -> None:
        self.port, self.ip, self.host = port, ip, host
        self.cookies: dict[str, str] = {}
        self.flow = self.csrf = ""
        self.page = "/signin/"

    def request(self, method: str, path: str, form: dict | None = None) -> Response:
        headers = {"Host": self.host, "X-Forwarded-For": self.ip, "User-Agent": "mitel-bench"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            content = response.read()
            seconds = time.perf_counter() - started
            for header in response.headers.get_all("Set-Cookie") or []:
                pair = header.split(";", 1)[0]
                name, _, value = pair.partition("=")
                if value in ("", '""') or "max-age=0" in header.lower():
                    self.cookies.pop(name.strip(), None)
                else:
                    self.cookies[name.strip()] = value
            return Response(response.status, response.headers.get("Location", ""), content, seconds)
        finally:
            connection.close()

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post(self, path: str, form: dict) -> Response:
        return self.request("POST", path, {"csrfmiddlewaretoken": self.csrf, "flow": self.flow, **form})

    # --- the sign-in, step by step --------------------------------------------------------------

    def open_signin(self, app: str) -> Response:
        self.page = f"/signin/?app={app}"
        return self.read_page(self.page, "the sign-in page")

    def submit_username(self, username: str) -> Response:
        """Next, then the password page it redirects to (the flow's id is on that page)."""
        # The form has no action: it posts back to the page's URL, query string included.
        response = self.post(self.page, {"username": username})
        expect(response, 302, "Next", location="/signin/authenticate/")
        return self.read_page("/signin/authenticate/", "the password page")

    def submit_password(self, password: str) -> Response:
        return self.post("/signin/authenticate/", {"password": password})

    def submit_stay(self, stay: bool = True) -> Response:
        return self.post("/signin/stay/", {"stay": "yes" if stay else "no"})

    def read_page(self, path: str, what: str) -> Response:
        response = self.get(path)
        expect(response, 200, what)
        self.flow = FLOW.search(response.body).group(1).decode()
        self.csrf = CSRF.search(response.body).group(1).decode()
        return response

    def sign_in(self, app: str, username: str, password: str, *, lands_on: str) -> None:
        """A full password sign-in as a browser makes it: six requests, one password hash.

        The sign-in page, Next (and the password page it redirects to), the password (and the
        "Stay signed in?" page), Yes, and the redirect to the application (not followed).
        """
        self.open_signin(app)
        self.submit_username(username)
        expect(self.submit_password(password), 302, "the password", location="/signin/stay/")
        self.read_page("/signin/stay/", "the stay page")
        expect(self.submit_stay(), 302, "stay signed in", location=lands_on)
        if "sessionid" not in self.cookies:
            raise BenchError(f"sign-in of {username} left no session cookie")


def expect(response: Response, status: int, what: str, *, location: str | None = None) -> None:
    if response.status != status or (location is not None and response.location != location):
        raise BenchError(f"{what}: expected {status} {location or ''}, got {response.status} "
                         f"{response.location} {response.body[:300]!r}")
