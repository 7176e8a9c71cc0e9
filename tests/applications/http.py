"""A person's browser over HTTP (``requests``): follows the sign-in pages' forms as a browser would.

The HTTP twin of tests/signin.py, for tests that drive the provider on a live server.
"""

from html.parser import HTMLParser
from urllib.parse import urljoin

import requests

from tests.signin import DEMO_PASSWORD


class Forms(HTMLParser):
    """The forms of a page: action, the values of their hidden inputs, buttons' own actions."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action") or "", "fields": {}, "buttons": {}})
        elif tag == "input" and self.forms and attrs.get("type") == "hidden" and attrs.get("name"):
            self.forms[-1]["fields"][attrs["name"]] = attrs.get("value") or ""
        elif tag == "button" and self.forms and attrs.get("formaction"):
            self.forms[-1]["buttons"][(attrs.get("name"), attrs.get("value"))] = attrs["formaction"]


class Browser:
    """Cookies, redirects followed on the provider's own origin, forms filled in and posted."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.session = requests.Session()
        self.page: requests.Response | None = None

    def open(self, url: str) -> requests.Response:
        """GET ``url`` and follow redirects while they stay on the provider; the last response."""
        return self._follow(self.session.get(urljoin(self.origin, url), allow_redirects=False))

    def submit(self, *, form: int = 0, **fields) -> requests.Response:
        """Post the current page's ``form``-th form with its hidden fields and ``fields``."""
        parser = Forms()
        parser.feed(self.page.text)
        assert len(parser.forms) > form, f"no form {form} on {self.page.url}: {self.page.text[:500]}"
        form = parser.forms[form]
        pressed = [action for (name, value), action in form["buttons"].items()
                   if fields.get(name) == value]  # a button with a formaction of its own
        url = urljoin(self.page.url, pressed[0] if pressed else form["action"])
        return self._follow(self.session.post(url, data={**form["fields"], **fields},
                                              headers={"Referer": self.page.url},
                                              allow_redirects=False))

    def _follow(self, response: requests.Response) -> requests.Response:
        while response.is_redirect:
            target = urljoin(response.url, response.headers["Location"])
            if not target.startswith(self.origin):
                break  # back to the application: the test reads Location
            response = self.session.get(target, allow_redirects=False)
        self.page = response
        return response

    @property
    def location(self) -> str:
        assert self.page is not None and self.page.is_redirect, (
            f"expected a redirect, got {self.page.status_code}: {self.page.text[:800]}")
        return self.page.headers["Location"]

    # --- the sign-in pages, as intent ---------------------------------------------------------

    def sign_in(self, username: str, password: str = DEMO_PASSWORD, *, account: str = "",
                code: str | None = None, stay: str = "no") -> requests.Response:
        """From the username page the authorize request led to, through to what follows."""
        assert "/signin/" in self.page.url, self.page.url
        self.submit(username=username)
        if account:
            self.submit(account="", account_number=account)
        self.submit(password=password)
        if code is not None:
            self.submit(code=code() if callable(code) else code)
        if self.page.status_code == 200 and 'name="stay"' in self.page.text:
            self.submit(stay=stay)
        return self.page
