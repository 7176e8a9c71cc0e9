"""Property-based tests over the forms (SECURITY.md 34): whatever is typed, never a 500, nothing
reflected unescaped."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.signin import start

pytestmark = pytest.mark.django_db

MARKER = '<b id="xss">'
nasty = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=50).map(lambda s: s + MARKER),
    st.sampled_from(["", " ", "\x00", "\u202eevil", "😀" * 100, "a" * 5000, MARKER,
                     "<script>alert(1)</script>", "' OR 1=1 --", "%00", "\r\nSet-Cookie: x=1"]),
)
EXAMPLES = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def assert_safe(response) -> None:
    assert response.status_code < 500
    body = response.content.decode(errors="replace")
    assert MARKER not in body and "<script>alert(1)</script>" not in body


def submit(client, url: str, data: dict):
    flow = client.session.get("signin_flow", {}).get("flow_id", "")
    return client.post(url, {"flow": flow, **data})


@EXAMPLES
@given(username=nasty)
def test_the_username_step_takes_anything(client, demo, username):
    start(client)
    assert_safe(submit(client, "/signin/", {"username": username}))


@EXAMPLES
@given(password=nasty)
def test_the_password_step_takes_anything(client, demo, password):
    start(client)
    submit(client, "/signin/", {"username": "nobody@acme.example"})
    assert_safe(submit(client, "/signin/authenticate/", {"password": password}))


@EXAMPLES
@given(account=nasty, typed=nasty)
def test_the_account_picker_takes_anything(client, demo, account, typed):
    start(client)
    submit(client, "/signin/", {"username": "bob@multi.example"})
    assert_safe(submit(client, "/signin/account/", {"account": account, "account_number": typed}))


@EXAMPLES
@given(app=nasty, next_url=nasty, hint=nasty, account=nasty)
def test_the_link_parameters_take_anything(client, demo, app, next_url, hint, account):
    assert_safe(start(client, app=app, next=next_url, login_hint=hint, account=account))


@EXAMPLES
@given(flow=nasty, stay=nasty)
def test_the_stay_step_takes_anything(client, demo, flow, stay):
    start(client)
    assert_safe(client.post("/signin/stay/", {"flow": flow, "stay": stay}))


@EXAMPLES
@given(code=nasty)
def test_the_verify_code_step_takes_anything(client, demo, code):
    start(client)
    submit(client, "/signin/", {"username": "trent@acme.example"})
    submit(client, "/signin/authenticate/", {"password": "Mitel-demo-2026!"})
    assert_safe(submit(client, "/signin/code/", {"code": code}))


@EXAMPLES
@given(password=nasty, code=nasty)
def test_the_mfa_pages_take_anything(client, demo, password, code):
    client.force_login(demo["alice@acme.example"])
    for url in ("/me/mfa/setup/", "/me/mfa/remove/", "/me/mfa/backup-codes/"):
        assert_safe(client.post(url, {"password": password}))
    assert_safe(client.post("/me/mfa/setup/confirm/", {"code": code}))


@EXAMPLES
@given(username=nasty, first=nasty, last=nasty, email=nasty)
def test_the_connect_portal_user_form_takes_anything(client, demo, username, first, last, email):
    alice = demo["alice@acme.example"]
    alice.refresh_from_db()
    client.force_login(demo["grace@acme.example"])  # Decision Maker of alice's account
    response = client.post(f"/admin/accounts/user/{alice.pk}/change/", {
        "username": username, "first_name": first, "last_name": last, "email": email,
        "version": alice.version, "_save": "Save"})
    assert_safe(response)
