"""An account that requires MFA: its password users without an authenticator enrol after the password."""

import re
from base64 import b32encode

import pytest
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AuditEvent, MitelAccount
from tests.accounts.mfa_helpers import (
    ALICE,
    code_for,
    enter_code,
    post_step,
    sign_in_with_password,
    signed_in_user,
    stay_signed_in,
    verified_device_id,
    wrong_code_for,
)

pytestmark = pytest.mark.usefixtures("demo")


@pytest.fixture
def acme_requires_mfa(demo):
    MitelAccount.objects.filter(account_number="100001").update(require_mfa=True)


def pending_device(username: str = ALICE) -> TOTPDevice:
    return TOTPDevice.objects.get(user__username=username, confirmed=False)


def shown_secret(html: str) -> str:
    return re.search(r'<code class="mfa-secret">([A-Z2-7 ]+)</code>', html).group(1).replace(" ", "")


@pytest.mark.usefixtures("acme_requires_mfa")
def test_alice_is_taken_to_enrolment_right_after_her_password_and_signs_in_verified(client):
    assert sign_in_with_password(client, ALICE)["Location"] == "/signin/mfa-setup/"
    page = client.get("/signin/mfa-setup/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Set up two-step verification" in html
    assert "Acme Dental asks everyone who signs in with a password" in html
    device = pending_device()
    assert shown_secret(html) == b32encode(device.bin_key).decode()
    assert 'src="data:image/svg+xml' in html
    assert signed_in_user(client) is None  # nothing opens while enrolment is pending
    assert client.get("/admin/")["Location"].startswith("/admin/login/")

    response = post_step(client, "mfa-setup", code=wrong_code_for(device))
    assert response.status_code == 200
    assert "That code is not right" in response.content.decode()
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=None,
                                                   throttling_failure_count=0)

    response = post_step(client, "mfa-setup", code=code_for(device))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Save your backup codes now" in html
    codes = re.findall(r"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>", html)
    assert len(set(codes)) == 10
    assert StaticToken.objects.filter(device__user__username=ALICE).count() == 10
    assert TOTPDevice.objects.get(pk=device.pk).confirmed
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.MFA_ENROLLED, user__username=ALICE).exists()

    continue_page = client.get("/signin/mfa-setup/")
    assert continue_page["Location"] == "/signin/stay/"
    assert stay_signed_in(client)["Location"] == "/me/"
    assert signed_in_user(client).username == ALICE
    assert verified_device_id(client) == device.persistent_id


@pytest.mark.usefixtures("acme_requires_mfa")
def test_after_enrolling_alice_is_asked_for_a_code_next_time(client):
    sign_in_with_password(client, ALICE)
    client.get("/signin/mfa-setup/")
    device = pending_device()
    post_step(client, "mfa-setup", code=code_for(device))
    stay_signed_in(client)
    client.logout()
    assert sign_in_with_password(client, ALICE)["Location"] == "/signin/code/"


@pytest.mark.usefixtures("acme_requires_mfa")
def test_reloading_the_enrolment_page_keeps_the_secret_but_another_sign_in_gets_a_new_one(client):
    sign_in_with_password(client, ALICE)
    first = shown_secret(client.get("/signin/mfa-setup/").content.decode())
    assert shown_secret(client.get("/signin/mfa-setup/").content.decode()) == first
    old_device = pending_device()

    other = client.__class__()
    sign_in_with_password(other, ALICE)
    assert shown_secret(other.get("/signin/mfa-setup/").content.decode()) != first
    # The first secret, perhaps seen by someone who had only the password, can no longer be confirmed.
    response = post_step(client, "mfa-setup", code=code_for(old_device))
    assert "This set-up has expired" in response.content.decode()
    assert not TOTPDevice.objects.filter(user__username=ALICE, confirmed=True).exists()


def test_accounts_without_the_policy_do_not_ask_for_enrolment(client):
    assert sign_in_with_password(client, ALICE)["Location"] == "/signin/stay/"


@pytest.mark.usefixtures("acme_requires_mfa")
def test_the_policy_of_any_of_the_users_accounts_applies(client):
    """bob is in Acme (requires MFA) and Globex (does not): his session opens both."""
    client.get("/signin/?account=GLOBEX")
    response = client.post("/signin/?account=GLOBEX", {"username": "bob@multi.example", "flow": ""})
    assert response["Location"] == "/signin/authenticate/"
    response = post_step(client, "authenticate", password="Mitel-demo-2026!")
    assert response["Location"] == "/signin/mfa-setup/"


@pytest.mark.usefixtures("acme_requires_mfa")
def test_sso_sign_ins_are_not_asked_to_enrol(demo):
    from django.test import RequestFactory

    from signin.flow import FlowState, SigninFlow
    from signin.steps.code import MfaEnrolStep

    request = RequestFactory().get("/")
    request.session = {}
    alice = demo[ALICE]
    def flow(method):
        return SigninFlow(request, FlowState(username=ALICE, user_id=alice.pk, authenticated=True,
                                             method=method))

    assert not MfaEnrolStep().applies(flow("azure_ad"))
    assert MfaEnrolStep().applies(flow("password"))


@pytest.mark.usefixtures("acme_requires_mfa")
def test_users_with_an_authenticator_verify_a_code_instead_of_enrolling(client):
    response = sign_in_with_password(client, "trent@acme.example")
    assert response["Location"] == "/signin/code/"
    device = TOTPDevice.objects.get(user__username="trent@acme.example")
    assert enter_code(client, code_for(device))["Location"] == "/signin/stay/"
