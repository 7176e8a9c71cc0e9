"""Passkeys in Chromium, with a virtual authenticator (the DevTools protocol's WebAuthn domain).

The authenticator is a platform one (CTAP2, internal transport) that keeps discoverable passkeys
and verifies its user, as a phone or a laptop with a fingerprint reader does. Every new screen
passes the Content Security Policy (django-otp-webauthn's scripts run under it) and axe-core's
WCAG 2.2 AA rules. SECURITY.md 49.
"""

import re

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AuditEvent
from tests.accounts.mfa_helpers import code_for
from tests.passkey_authenticator import SoftwareAuthenticator, add_passkey
from tests.signin import open_portal_as

pytestmark = pytest.mark.browser

DEMO_PASSWORD = "Mitel-demo-2026!"
MEETINGS = "https://meetings.mitel.example/"


@pytest.fixture
def passkey_site(site, live_server, settings):
    """The live server, with its origin allowed for passkeys (the RP ID is "localhost")."""
    assert live_server.url.startswith("http://localhost:")
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [live_server.url, "http://localhost"]
    return site


@pytest.fixture
def browse(open_browser, passkey_site):
    def open_(*, autofill: bool = False):
        browsing = open_browser(folder="passkeys")
        if not autofill:
            without_autofill(browsing)
        return browsing

    return open_


def virtual_authenticator(browsing) -> tuple[object, str]:
    """A platform authenticator in this tab: discoverable passkeys, user verified."""
    cdp = browsing.page.context.new_cdp_session(browsing.page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True, "automaticPresenceSimulation": True,
    }})
    return cdp, added["authenticatorId"]


def without_autofill(browsing) -> None:
    """A browser without passkey autofill (conditional mediation): Chromium's virtual authenticator
    answers an autofill request at once, which would sign in before the button could be used."""
    browsing.page.add_init_script(
        "if (window.PublicKeyCredential) PublicKeyCredential.isConditionalMediationAvailable ="
        " async () => false;")


def click(browsing, name: str) -> None:
    with browsing.page.expect_navigation():
        browsing.page.get_by_role("button", name=name).click()


def sign_in_with_password(browsing, username: str, *, account: str = "") -> None:
    browsing.goto("/signin/")
    browsing.page.get_by_label("Username").fill(username)
    click(browsing, "Next")
    if account:
        browsing.page.get_by_label("Account", exact=True).select_option(label=account)
        click(browsing, "Next")
    browsing.page.get_by_label("Password").fill(DEMO_PASSWORD)
    click(browsing, "Sign in")


def add_a_passkey(browsing, name: str) -> None:
    """From /me/: Add a passkey, its name and the password, then the browser makes it."""
    browsing.goto("/me/")
    browsing.page.get_by_role("link", name="Add a passkey").click()
    browsing.page.wait_for_url(re.compile("/me/passkeys/add/$"))
    browsing.check("add a passkey")
    browsing.page.get_by_label("Name").fill(name)
    browsing.page.get_by_label("Current password").fill(DEMO_PASSWORD)
    click(browsing, "Continue")
    assert browsing.heading() == "Create your passkey"
    browsing.check("create your passkey")
    with browsing.page.expect_navigation(url=re.compile("/me/passkeys/$")):
        browsing.page.get_by_role("button", name="Create passkey").click()


def sign_out(browsing) -> None:
    browsing.goto("/signout/")
    click(browsing, "Sign out")


def stored_passkeys(cdp, authenticator_id: str) -> list[dict]:
    return cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"]


def test_alice_adds_a_passkey_and_signs_in_with_it_with_no_password(browse):
    alice = browse()
    cdp, authenticator = virtual_authenticator(alice)
    sign_in_with_password(alice, "alice@acme.example")
    click(alice, "Yes")
    add_a_passkey(alice, "Work laptop")
    assert "Your passkey \"Work laptop\" was added." in alice.page.inner_text("main")
    assert "Work laptop" in alice.page.inner_text("#passkeys")
    alice.check("passkeys list")
    [stored] = stored_passkeys(cdp, authenticator)
    assert stored["isResidentCredential"] is True
    me = alice.goto("/me/")
    assert me.status == 200 and "Work laptop" in alice.page.inner_text("#passkeys")
    alice.check("personal information with a passkey")

    sign_out(alice)
    alice.goto("/signin/?app=miteam-meetings")
    alice.check("username with passkey")
    with alice.page.expect_navigation(url=re.compile("/signin/stay/")):
        alice.page.get_by_role("button", name="Sign in with a passkey").click()
    assert alice.heading() == "Stay signed in?"
    alice.page.get_by_role("button", name="No").click()
    alice.page.wait_for_url(MEETINGS)
    event = AuditEvent.objects.filter(kind=AuditEvent.Kind.SIGN_IN).first()
    assert (event.username, event.method) == ("alice@acme.example", "passkey")
    [stored] = stored_passkeys(cdp, authenticator)
    assert stored["signCount"] >= 1

    # Another browser holding the same passkey, with passkey autofill: the username field offers
    # it (autocomplete "username webauthn", a conditional request); the virtual authenticator
    # answers that request at once, as if alice picked the passkey from the field's suggestions.
    again = browse(autofill=True)
    again.page.add_init_script(RECORD_PASSKEY_REQUESTS)
    cdp_again, other = virtual_authenticator(again)
    cdp_again.send("WebAuthn.addCredential", {"authenticatorId": other, "credential": stored})
    again.goto("/signin/?app=miteam-meetings")
    again.page.wait_for_url(re.compile("/signin/stay/"))
    assert again.heading() == "Stay signed in?"
    requests = again.page.evaluate("JSON.parse(sessionStorage.getItem('passkeyRequests'))")
    assert requests == [{"mediation": "conditional", "autocomplete": "username webauthn"}]


# What each passkey request asked, kept across the navigation it leads to.
RECORD_PASSKEY_REQUESTS = """
if (navigator.credentials) {
  const get = navigator.credentials.get.bind(navigator.credentials);
  navigator.credentials.get = (options) => {
    const asked = JSON.parse(sessionStorage.getItem("passkeyRequests") || "[]");
    const field = document.getElementById("id_username");
    asked.push({mediation: options.mediation || "",
                autocomplete: field && field.getAttribute("autocomplete")});
    sessionStorage.setItem("passkeyRequests", JSON.stringify(asked));
    return get(options);
  };
}
"""


def test_trent_uses_a_passkey_instead_of_his_code(browse):
    trent = browse()
    virtual_authenticator(trent)
    device = TOTPDevice.objects.get(user__username="trent@acme.example")
    sign_in_with_password(trent, "trent@acme.example")
    trent.page.get_by_label("Code").fill(code_for(device))
    click(trent, "Verify")
    click(trent, "Yes")
    add_a_passkey(trent, "Phone")
    sign_out(trent)

    sign_in_with_password(trent, "trent@acme.example")
    assert trent.heading() == "Verify it's you"
    main = trent.page.inner_text("main")
    assert main.index("Use your passkey") < main.index("Verify code")  # the passkey first
    trent.check("verify with a passkey or a code")
    with trent.page.expect_navigation(url=re.compile("/signin/stay/")):
        trent.page.get_by_role("button", name="Use your passkey").click()
    click(trent, "Yes")
    assert trent.page.url.endswith("/me/")


# An attacker's script: asks for the options, drops the list of allowed passkeys so that the
# authenticator signs with any passkey it holds for the site, and posts the answer.
OFFER_ANY_PASSKEY = """
async () => {
  const config = JSON.parse(document.getElementById("otp_webauthn_config").textContent);
  const post = (url, body) => fetch(url, {method: "POST", credentials: "same-origin",
    headers: {"Content-Type": "application/json", "X-CSRFToken": config.csrfToken},
    body: body === undefined ? undefined : JSON.stringify(body)});
  const fromB64 = (s) => Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/")),
                                         (c) => c.charCodeAt(0));
  const toB64 = (b) => btoa(String.fromCharCode(...new Uint8Array(b)))
    .replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
  const options = await (await post(config.beginAuthenticationUrl)).json();
  const credential = await navigator.credentials.get({publicKey: {
    challenge: fromB64(options.challenge), rpId: options.rpId, userVerification: "required",
    allowCredentials: []}});
  const r = credential.response;
  const answer = await post(config.completeAuthenticationUrl, {
    id: credential.id, rawId: toB64(credential.rawId), type: credential.type,
    response: {authenticatorData: toB64(r.authenticatorData), clientDataJSON: toB64(r.clientDataJSON),
               signature: toB64(r.signature), userHandle: r.userHandle ? toB64(r.userHandle) : undefined},
    clientExtensionResults: {}});
  return {status: answer.status, body: await answer.json()};
}
"""


def test_a_passkey_of_alices_offered_for_bob_is_refused(browse, client, demo):
    # bob has a passkey of his own (so the MFA step offers one), on another device.
    open_portal_as(client, demo["bob@multi.example"])
    assert add_passkey(client, SoftwareAuthenticator(), name="Bob's phone").status_code == 200

    browser = browse()
    cdp, authenticator = virtual_authenticator(browser)
    sign_in_with_password(browser, "alice@acme.example")
    click(browser, "Yes")
    add_a_passkey(browser, "Alice's laptop")
    sign_out(browser)

    sign_in_with_password(browser, "bob@multi.example", account="Acme Dental (100001)")
    assert browser.heading() == "Verify it's you"
    result = browser.page.evaluate(OFFER_ANY_PASSKEY)
    assert result["status"] == 403, result
    assert "not accepted" in result["body"]["detail"]
    browser.page.reload()
    assert browser.heading() == "Verify it's you"  # still at bob's MFA step
    failure = AuditEvent.objects.get(kind=AuditEvent.Kind.MFA_FAILED)
    assert (failure.username, failure.method) == ("bob@multi.example", "passkey")


def test_removing_a_passkey_asks_for_a_fresh_proof(browse):
    alice = browse()
    cdp, authenticator = virtual_authenticator(alice)
    sign_in_with_password(alice, "alice@acme.example")
    click(alice, "Yes")
    add_a_passkey(alice, "Old laptop")
    alice.page.get_by_role("link", name="Remove Old laptop").click()
    alice.page.wait_for_url(re.compile("/remove/$"))
    assert alice.heading() == "Remove the passkey \"Old laptop\""
    assert "enter your password again" in alice.page.inner_text("main")
    alice.check("remove a passkey")
    alice.page.get_by_label("Current password").fill("not my password")
    click(alice, "Remove passkey")
    assert "That password is not right." in alice.page.inner_text("main")
    alice.check("remove a passkey wrong password")
    alice.page.get_by_label("Current password").fill(DEMO_PASSWORD)
    click(alice, "Remove passkey")
    assert "Your passkey \"Old laptop\" was removed." in alice.page.inner_text("main")
    assert "You have no passkeys yet." in alice.page.inner_text("main")
