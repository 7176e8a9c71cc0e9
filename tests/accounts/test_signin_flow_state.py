"""The flow's transitions: the one rule for what a new username or a new proof cancels."""

from importlib import import_module

import pytest
from django.conf import settings
from django.test import RequestFactory

from accounts.models import MitelAccount
from signin.flow import SigninFlow
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def request_():
    request = RequestFactory().get("/")
    request.session = import_module(settings.SESSION_ENGINE).SessionStore()
    return request


def proven_flow(request, user, *done_after_proof: str) -> SigninFlow:
    flow = SigninFlow.begin(request, application=None)
    flow.entered_username(user.username)
    flow.step_done("username")
    flow.proved(user, method="password")
    flow.step_done("password")
    for name in done_after_proof:
        flow.step_done(name)
    return flow


def test_a_new_proof_rotates_the_session_key(request_):
    user = MembershipFactory().user
    request_.session.save()
    before = request_.session.session_key
    proven_flow(request_, user)
    assert request_.session.session_key != before


def test_a_password_reset_cancels_the_proof_and_every_step_after_it(request_):
    user = MembershipFactory().user
    flow = proven_flow(request_, user, "code", "stay")
    flow.verified_second_factor("device-1")
    flow.chose_to_stay_signed_in(True)
    flow.restart_at_password()
    assert not flow.is_authenticated and flow.method == ""
    assert flow.second_factor == "" and not flow.stay_signed_in
    assert flow.state.done == ["username"]


def test_a_password_reset_before_any_proof_keeps_the_steps_done(request_):
    user = MembershipFactory().user
    flow = SigninFlow.begin(request_, application=None)
    flow.entered_username(user.username)
    flow.step_done("username")
    flow.restart_at_password()
    assert flow.state.done == ["username"]


def test_a_new_username_starts_over(request_):
    user = MembershipFactory().user
    other = MembershipFactory().user
    flow = proven_flow(request_, user, "code")
    flow.chose_password()
    flow.entered_username(other.username)
    assert not flow.is_authenticated and not flow.wants_password
    assert flow.state.done == [] and flow.is_for(other) and not flow.is_for(user)


def test_an_sso_only_account_picked_after_the_password_needs_its_own_proof(request_):
    user = UserFactory()
    MembershipFactory(user=user)
    sso_only = MembershipFactory(
        user=user, account__authentication=MitelAccount.Authentication.AZURE_AD,
        account__allow_password_sign_in=False).account
    flow = proven_flow(request_, user)
    flow.chose_account(sso_only)
    assert not flow.is_authenticated
    assert "password" not in flow.state.done


def test_a_password_account_picked_after_the_password_keeps_the_proof(request_):
    user = UserFactory()
    first, second = MembershipFactory(user=user).account, MembershipFactory(user=user).account
    flow = proven_flow(request_, user)
    flow.chose_account(second)
    assert flow.is_authenticated and flow.account == second and first != second


def test_the_proof_must_be_of_the_flows_user(request_):
    user, stranger = MembershipFactory().user, UserFactory()
    flow = SigninFlow.begin(request_, application=None)
    flow.entered_username(user.username)
    with pytest.raises(ValueError):
        flow.proved(stranger, method="password")


# --- another account for a signed-in person (an application asked for it) ---------------------

def switching(request, user, *, method="password", account_id=None, hint="", choose=False):
    return SigninFlow.switching_account(
        request, user=user, application=None, next_url="", account_hint=hint, choose=choose,
        method=method, account_id=account_id, second_factor="", stay_signed_in=True)


def two_accounts(**second):
    first = MembershipFactory()
    other = MembershipFactory(user=first.user, account__name="Zeta", **second)
    return first.user, first.account, other.account


def test_a_password_session_carries_to_another_account_that_takes_passwords(request_):
    user, first, second = two_accounts()
    flow = switching(request_, user, hint=second.account_number)
    assert flow.account == second and flow.is_authenticated and flow.carried_proof
    assert flow.method == "password" and flow.is_done("stay")


def test_without_a_hint_the_picker_is_due_and_the_proof_waits_for_the_choice(request_):
    user, first, second = two_accounts()
    flow = switching(request_, user, choose=True, hint=first.account_number)  # choose wins
    assert flow.account is None and flow.is_authenticated
    flow.chose_account(first)
    assert flow.is_authenticated and flow.carried_proof


def test_a_password_proof_does_not_carry_to_a_single_sign_on_only_account(request_):
    user, first, second = two_accounts(account__entra=True)
    assert not second.password_allowed
    flow = switching(request_, user, hint=second.account_number)
    assert flow.account == second
    assert not flow.is_authenticated and not flow.carried_proof and flow.method == ""
    assert flow.state.done == ["username"]  # "Stay signed in?" is asked again after the proof


def test_an_identity_providers_proof_carries_to_its_own_account_only(request_):
    user, first, second = two_accounts()
    flow = switching(request_, user, method="azure_ad", account_id=first.pk, choose=True)
    flow.chose_account(second)
    assert not flow.is_authenticated  # the password account asks for the password
    flow = switching(request_, user, method="azure_ad", account_id=first.pk, choose=True)
    flow.chose_account(first)
    assert flow.is_authenticated and flow.method == "azure_ad"


def test_a_proof_by_an_identity_provider_in_a_normal_flow_is_that_accounts(request_):
    user, first, second = two_accounts()
    flow = SigninFlow.begin(request_, application=None)
    flow.entered_username(user.username)
    flow.chose_account(first)
    flow.proved(user, method="okta")
    assert flow.state.proved_account_id == first.pk and not flow.carried_proof
    flow.chose_account(second)
    assert not flow.is_authenticated
