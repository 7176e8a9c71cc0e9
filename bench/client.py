"""A small HTTP client that signs in the way a browser does, with as little client-side work as possible.

``http.client`` rather than ``requests``: the load generator shares two cores with the app and the
database, so every millisecond it spends is one the server does not get.
"""

import base64
import hashlib
import http.client
import json
import re
import secrets
import time
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

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

    def request(self, method: str, path: str, form: dict | None = None, *,
                cookies: bool = True) -> Response:
        """One request; ``cookies=False`` for one the application's server makes, not the browser."""
        headers = {"Host": self.host, "X-Forwarded-For": self.ip, "User-Agent": "mitel-bench"}
        if self.cookies and cookies:
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
        """Next, answered with the password page (the flow's id is on that page)."""
        # The form posts back to the page's URL, query string included; the page's script asks
        # for the next step's page in the reply (in_place), as every step's form does.
        response = self.post(self.page, {"username": username, "in_place": "1"})
        return self.read(response, "Next, answered with the password page")

    def submit_password(self, password: str) -> Response:
        """The password; if right, answered with the "Stay signed in?" page."""
        return self.post("/signin/authenticate/", {"password": password, "in_place": "1"})

    def submit_stay(self, stay: bool = True) -> Response:
        return self.post("/signin/stay/", {"stay": "yes" if stay else "no", "in_place": "1"})

    def read_page(self, path: str, what: str) -> Response:
        return self.read(self.get(path), what)

    def read(self, response: Response, what: str) -> Response:
        """A page of the flow: its flow id and CSRF token are what its form posts next."""
        expect(response, 200, what)
        self.flow = FLOW.search(response.body).group(1).decode()
        self.csrf = CSRF.search(response.body).group(1).decode()
        return response

    def sign_in(self, app: str, username: str, password: str, *, lands_on: str) -> None:
        """A full password sign-in as a browser with the pages' script makes it: four requests,
        one password hash.

        The sign-in page, Next (answered with the password page), the password (answered with the
        "Stay signed in?" page), Yes, and the redirect to the application (not followed).
        """
        self.open_signin(app)
        self.submit_username(username)
        self.read(self.submit_password(password), "the password, answered with the stay page")
        expect(self.submit_stay(), 302, "stay signed in", location=lands_on)
        if "sessionid" not in self.cookies:
            raise BenchError(f"sign-in of {username} left no session cookie")


    def stock_sign_in(self, username: str, password: str) -> None:
        """Django's own ``LoginView`` (bench/urls.py): its page, then one POST, ending in a 302."""
        page = self.get("/bench/stock-login/")
        expect(page, 200, "the stock login page")
        self.csrf = CSRF.search(page.body).group(1).decode()
        response = self.request("POST", "/bench/stock-login/", {
            "csrfmiddlewaretoken": self.csrf, "username": username, "password": password})
        expect(response, 302, "the stock login", location="/bench/trivial/")
        if "sessionid" not in self.cookies:
            raise BenchError(f"stock sign-in of {username} left no session cookie")

    def app_sign_in(self, client_id: str, redirect_uri: str, username: str, password: str) -> dict:
        """The sign-in an application starts: its authorize request (PKCE), the redirect to the
        sign-in, the whole flow, back to authorize, the code to the application, and the code
        exchange at the token endpoint. Returns the token response."""
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
        query = urlencode({"response_type": "code", "client_id": client_id, "scope": "openid",
                           "redirect_uri": redirect_uri, "state": secrets.token_urlsafe(8),
                           "nonce": secrets.token_urlsafe(8), "code_challenge": challenge.decode(),
                           "code_challenge_method": "S256"})
        response = self.get(f"/o/authorize/?{query}")
        expect(response, 302, "authorize, anonymous")
        self.page = local(response.location)
        self.read_page(self.page, "the sign-in page")
        self.submit_username(username)
        self.read(self.submit_password(password), "the password, answered with the stay page")
        back = self.submit_stay()
        expect(back, 302, "stay signed in")
        response = self.get(local(back.location))
        expect(response, 302, "authorize, signed in")
        if not response.location.startswith(redirect_uri):
            raise BenchError(f"authorize sent the browser to {response.location}")
        code = parse_qs(urlsplit(response.location).query)["code"][0]
        # The application's server exchanges the code: it has none of the browser's cookies.
        token = self.request("POST", "/o/token/", {
            "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
            "client_id": client_id, "code_verifier": verifier}, cookies=False)
        expect(token, 200, "the code exchange")
        return json.loads(token.body)


def local(url: str) -> str:
    """The path and query of a URL on this site (a Location may be absolute)."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def expect(response: Response, status: int, what: str, *, location: str | None = None) -> None:
    if response.status != status or (location is not None and response.location != location):
        raise BenchError(f"{what}: expected {status} {location or ''}, got {response.status} "
                         f"{response.location} {response.body[:300]!r}")
