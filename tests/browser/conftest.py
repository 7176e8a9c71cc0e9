"""A real browser for the sign-in pages: Debian's Chromium, driven by Playwright, checked by axe-core.

Locally the browser tests skip, saying so, only when Chromium is missing; in CI (``CI`` set) they
fail instead. axe-core comes from npm (``npm ci`` at the repository root): without it they fail,
since a browser test that cannot check accessibility would prove less than it says.
"""

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
IDP_SITE = "saml-idp.test"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
    "--no-first-run", "--disable-component-update", "--disable-sync",
    # The SAML identity provider of tests/browser/test_saml_journey.py, on a site other than the
    # portal's (as Entra ID and Okta are), so its form post to the portal is cross-site.
    f"--host-resolver-rules=MAP {IDP_SITE} 127.0.0.1",
]
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}

# Collects Content Security Policy violations as the page reports them. Init scripts are run by the
# browser itself (DevTools protocol), so the policy under test does not apply to this one.
WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') +
                              ' at ' + e.sourceFile + ':' + e.lineNumber);
});
"""

RUN_AXE = """
async (tags) => {
  const results = await axe.run(document,
    {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => n.target.join(' ') + ': ' + n.failureSummary),
  }));
}
"""


@pytest.fixture(scope="package")
def chromium():
    """Chromium, launched once for the browser tests."""
    if not CHROMIUM.exists():
        message = f"Chromium is not installed at {CHROMIUM}: apt-get install chromium"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop running in this thread, which makes Django refuse
    # ORM calls from it (SynchronousOnlyOperation). The test thread's ORM calls are ordinary
    # blocking ones (fixtures, assertions), so the check is switched off for the browser tests.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="package")
def axe_source() -> str:
    if not AXE.exists():
        pytest.fail(f"axe-core is missing ({AXE}): run `npm ci` at the repository root")
    return AXE.read_text()


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory) -> Path:
    """Where screenshots go: $SCREENSHOT_DIR (``make screenshots``), else a temporary folder."""
    folder = os.environ.get("SCREENSHOT_DIR")
    path = Path(folder) if folder else tmp_path_factory.getbasetemp() / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass
class Browsing:
    """One browser tab on the live server, with the checks every sign-in screen must pass."""

    page: object
    base_url: str
    axe_source: str
    screenshot_dir: Path
    width_name: str = ""
    problems: list[str] = field(default_factory=list)

    def watch(self) -> None:
        self.page.add_init_script(WATCH_CSP)
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"script error: {error}"))
        self.page.on("response", self._response)

    def _console(self, message) -> None:
        text = message.text
        # The document's own status (429 lockout, 503) is reported as a failed load: not a problem.
        if message.type == "error" and not text.startswith("Failed to load resource"):
            self.problems.append(f"console error: {text}")

    def _response(self, response) -> None:
        if response.request.resource_type != "document" and response.status >= 400:
            self.problems.append(f"{response.status} for {response.url}")

    def goto(self, path: str):
        return self.page.goto(self.base_url + path)

    def heading(self) -> str:
        return self.page.locator("h1").inner_text().strip()

    def check(self, name: str, *, screenshot: bool = True) -> None:
        """The screen on show passes the CSP, axe's WCAG 2.2 AA rules and reflow; then a picture."""
        self.page.wait_for_load_state("load")
        violations = self.page.evaluate("window.__cspViolations || []")
        assert not violations, f"{name}: Content Security Policy violations: {violations}"
        assert not self.problems, f"{name}: {self.problems}"
        # Injected through the DevTools protocol, not a <script> element: the page's policy allows
        # no inline script, and turning the policy off (bypass_csp) would hide the violations that
        # this suite is here to catch.
        self.page.evaluate(self.axe_source)
        found = self.page.evaluate(RUN_AXE, WCAG_22_AA)
        assert not found, f"{name}: axe found WCAG 2.2 AA violations:\n" + "\n".join(
            f"- {v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"]) for v in found
        )
        overflow = self.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name}: the page scrolls sideways by {overflow}px"
        if screenshot:
            self.screenshot(name)

    def screenshot(self, name: str) -> Path:
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        path = self.screenshot_dir / (f"{slug}-{self.width_name}.png" if self.width_name else f"{slug}.png")
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def site(live_server, demo):
    """The live server with the demo data of docs/design.md section 6."""
    return live_server.url


@pytest.fixture
def open_browser(chromium, site, axe_source, screenshot_dir):
    """Opens a fresh browser (own cookies) at a viewport: ``open_browser(PHONE, folder="journeys")``;
    ``locale`` is the browser's language (its Accept-Language)."""
    contexts = []

    def open_(viewport=DESKTOP, *, folder: str = "", width_name: str = "",
              locale: str = "en-GB") -> Browsing:
        phone = viewport["width"] < 600
        context = chromium.new_context(viewport=viewport, device_scale_factor=1, is_mobile=phone,
                                       has_touch=phone, locale=locale, timezone_id="UTC")
        context.set_default_timeout(10_000)
        contexts.append(context)
        browsing = Browsing(context.new_page(), site, axe_source,
                            screenshot_dir / folder if folder else screenshot_dir, width_name)
        browsing.watch()
        # The demo data's MiTeam Meetings: a stand-in page at its address (no internet here).
        browsing.page.route("https://meetings.mitel.example/**", lambda route: route.fulfill(
            status=200, content_type="text/html",
            body="<!doctype html><html lang='en'><title>MiTeam Meetings</title><h1>MiTeam Meetings</h1>"))
        return browsing

    yield open_
    for context in contexts:
        context.close()


# The SSO journeys run against the same local OpenID Connect providers as tests/sso.
from tests.sso.conftest import oidc_providers, sso  # noqa: E402,F401
