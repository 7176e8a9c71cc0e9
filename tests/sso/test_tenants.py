"""Accounts are tenants: an account's identity provider speaks only for that account (SECURITY.md 43, 46).

The attack these tests replay: a contact of Acme who also runs an SSO account "Umbrella" points
Umbrella's identity provider at one she controls, makes bob a member of Umbrella, has her provider
assert bob's username, and then acts as bob in Globex, where only bob has a role.
"""

import pytest

from accounts.models import AuditEvent, Domain, Membership, MitelAccount
from accounts.services.domains import claim_domain, mark_verified
from sso.models import SsoConnection
from sso.services.connections import save_connection
from tests.factories import MembershipFactory, MitelAccountFactory, UserFactory

from .oidc import (
    authorize,
    come_back,
    enter_username,
    press_single_sign_on,
    signed_in_user_id,
    stay_signed_in,
)

BOB = "bob@multi.example"
BOB_AT_ROGUE = "bob-at-the-rogue-provider"


@pytest.fixture
def umbrella(sso):
    """An SSO account whose identity provider its contact controls (the "rogue" provider)."""
    account = MitelAccountFactory(name="Umbrella", account_number="100005",
                                  authentication=MitelAccount.Authentication.OKTA, okta_beta=True)
    save_connection(SsoConnection(account=account, issuer_url=sso.rogue.issuer,
                                  client_id="umbrella", client_secret="umbrella-secret"))
    sso.rogue.add_user(BOB_AT_ROGUE, preferred_username=BOB, name="Not Bob")
    # bob is Decision Maker of Globex, where the contact who runs Umbrella has no role.
    Membership.objects.filter(user__username=BOB, account__account_number="100002").update(
        is_decision_maker=True)
    return account


def sign_in_through(client, username: str, account: MitelAccount, sub: str):
    enter_username(client, username, f"?account={account.account_number}")
    response = come_back(client, authorize(press_single_sign_on(client), sub))
    if response.status_code == 302 and response["Location"] == "/signin/stay/":
        response = stay_signed_in(client)
    return response


def test_an_identity_provider_cannot_sign_in_a_username_outside_its_verified_domains(client, sso, umbrella):
    bob = sso.users[BOB]
    Membership.objects.create(user=bob, account=umbrella)  # as if she had added him
    enter_username(client, BOB, f"?account={umbrella.account_number}")
    page = client.get("/signin/authenticate/")
    assert b"it is not one of the account" in page.content
    pressed = client.post("/sso/start/", {"flow": page.context["flow"].flow_id})
    assert pressed["Location"] == "/signin/authenticate/"  # back to the page, not to the provider
    assert signed_in_user_id(client) is None


def test_a_verified_domain_is_checked_again_when_the_provider_answers(client, sso, umbrella):
    bob = sso.users[BOB]
    Membership.objects.create(user=bob, account=umbrella)
    domain = mark_verified(claim_domain(umbrella, "multi.example"), method=Domain.Method.STAFF)
    enter_username(client, BOB, f"?account={umbrella.account_number}")
    to_provider = press_single_sign_on(client)
    domain.delete()  # unverified while the person was at the identity provider
    response = come_back(client, authorize(to_provider, BOB_AT_ROGUE))
    assert response.status_code == 403
    assert signed_in_user_id(client) is None


def test_a_session_proven_by_one_accounts_provider_has_no_rights_in_another(client, sso, umbrella):
    """Even with the domain verified for Umbrella and bob a member there, the session her provider
    proves gives rights in Umbrella only: not in Globex, where bob is Decision Maker."""
    bob = sso.users[BOB]
    Membership.objects.create(user=bob, account=umbrella)
    mark_verified(claim_domain(umbrella, "multi.example"), method=Domain.Method.STAFF)
    globex_member = MembershipFactory(account=MitelAccount.objects.get(account_number="100002")).user
    response = sign_in_through(client, BOB, umbrella, BOB_AT_ROGUE)
    assert signed_in_user_id(client) == bob.pk, response
    portal = client.get("/admin/")
    assert b"Globex" not in portal.content
    assert client.get(f"/admin/accounts/user/{globex_member.pk}/change/").status_code in {302, 403, 404}
    changed = client.post(f"/admin/accounts/user/{globex_member.pk}/change/",
                          {"email": "taken@evil.example"})
    assert changed.status_code in {302, 403, 404}
    globex_member.refresh_from_db()
    assert globex_member.email != "taken@evil.example"
    me = client.get("/me/")
    assert b"Umbrella" in me.content and b"Globex Partners" not in me.content


def test_a_password_session_keeps_its_rights_in_password_accounts(client, sso, umbrella):
    from tests.signin import sign_in

    sign_in(client, BOB, account="GLOBEX")
    assert b"Globex" in client.get("/admin/").content


@pytest.mark.parametrize("username", ["erin@contoso.example", "nobody-here@contoso.example"])
def test_under_a_federated_domain_known_and_unknown_usernames_see_the_same_screens(client, sso, username):
    enter_username(client, username)
    page = client.get("/signin/authenticate/")
    assert page.templates[0].name == "signin/sso.html"
    assert b"Contoso Ltd signs in with Microsoft Entra ID" in page.content


def test_an_unknown_username_under_a_federated_domain_is_not_signed_in_by_its_provider(client, sso):
    sso.contoso.add_user("stranger-sub", preferred_username="nobody-here@contoso.example")
    enter_username(client, "nobody-here@contoso.example")
    response = come_back(client, authorize(press_single_sign_on(client), "stranger-sub"))
    assert response.status_code == 403
    assert signed_in_user_id(client) is None
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.SSO_MISMATCH).exists()


def test_a_domain_is_verified_for_one_account_at_a_time(db):
    from accounts.services.domains import DomainTaken

    first, second = MitelAccountFactory(), MitelAccountFactory()
    mark_verified(claim_domain(first, "shared.example"), method=Domain.Method.STAFF)
    with pytest.raises(DomainTaken):
        mark_verified(claim_domain(second, "Shared.Example."), method=Domain.Method.DNS)
    assert not Domain.objects.get(account=second).is_verified


def test_a_user_whose_account_federates_another_domain_signs_in_with_the_password(client, sso):
    """A member of an SSO account that allows passwords, outside its verified domains."""
    contoso = MitelAccount.objects.get(account_number="100003")
    outsider = UserFactory(username="pat@elsewhere.example")
    MembershipFactory(user=outsider, account=contoso)
    enter_username(client, outsider.username)
    assert client.get("/signin/authenticate/").templates[0].name == "signin/password.html"


def test_step_one_alone_her_own_provider_on_an_internal_address_cannot_be_connected(db, settings):
    """In production an issuer must be https to a public address (SECURITY.md 45)."""
    from django.core.exceptions import ValidationError

    settings.SSO_ALLOW_LOOPBACK_ISSUERS = False
    account = MitelAccountFactory(name="Umbrella", authentication=MitelAccount.Authentication.OKTA,
                                  okta_beta=True)
    for issuer in ("http://127.0.0.1:9400", "https://127.0.0.1:9400", "https://169.254.169.254/"):
        with pytest.raises(ValidationError):
            save_connection(SsoConnection(account=account, issuer_url=issuer, client_id="u",
                                          client_secret="s"))
    assert not SsoConnection.objects.filter(account=account).exists()
