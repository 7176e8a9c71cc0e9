"""Domains an account claims, verified by a DNS TXT record (against a DNS server of the test's own
on loopback) or by Mitel staff; one account at a time; every step audited."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import AuditEvent, Domain
from accounts.services.domains import (
    DomainNotVerified,
    DomainTaken,
    add_domain_claim,
    approve_domain,
    is_verified_for,
    realm_of,
    remove_domain,
    txt_record,
    verify_by_dns,
)
from tests.dns_server import LoopbackDns
from tests.factories import MembershipFactory, MitelAccountFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme():
    return MitelAccountFactory(name="Acme", entra=True)


@pytest.fixture
def dm(acme):
    """Decision Maker of Acme: manages its Single Sign On."""
    return MembershipFactory(account=acme, decision_maker=True).user


@pytest.fixture
def admin_user():
    return UserFactory(superuser=True)


@pytest.fixture
def dns_server(settings):
    """Start a loopback DNS server with the zones given; the verification asks it."""
    servers = []

    def start(zones=None, **kwargs) -> LoopbackDns:
        server = LoopbackDns(zones, **kwargs).__enter__()
        servers.append(server)
        settings.DOMAIN_VERIFICATION_NAMESERVERS = [server.address]
        return server

    yield start
    for server in servers:
        server.__exit__(None, None, None)


def events(kind):
    return list(AuditEvent.objects.filter(kind=kind))


def test_a_claim_gets_a_txt_record_to_publish_and_is_audited(acme, dm):
    domain = add_domain_claim(acme, " Acme.Example. ", acting_user=dm)
    assert domain.name == "acme.example" and not domain.is_verified
    assert txt_record(domain) == f"mitel-domain-verification={domain.token}" and len(domain.token) >= 32
    [event] = events(AuditEvent.Kind.DOMAIN_CLAIMED)
    assert (event.actor, event.account, event.detail) == (dm, acme, {"domain": "acme.example"})
    assert add_domain_claim(acme, "acme.example", acting_user=dm) == domain  # once, audited once
    assert len(events(AuditEvent.Kind.DOMAIN_CLAIMED)) == 1


@pytest.mark.parametrize("name", ["", "acme", "bob@", "https://acme.example/", "acme..example",
                                  "-acme.example", "acme.example/x", "acme example.com", "acme.123"])
def test_a_claim_must_be_a_domain_name(acme, dm, name):
    with pytest.raises(ValidationError):
        add_domain_claim(acme, name, acting_user=dm)
    assert not Domain.objects.exists()


def test_the_right_txt_record_verifies_the_domain(acme, dm, dns_server):
    domain = add_domain_claim(acme, "acme.example", acting_user=dm)
    server = dns_server({"acme.example": ["v=spf1 -all", txt_record(domain)]})
    verify_by_dns(domain, acting_user=dm)
    domain.refresh_from_db()
    assert domain.is_verified and domain.verified_by == "dns"
    assert server.queries == [("acme.example", "TXT")]
    [event] = events(AuditEvent.Kind.DOMAIN_VERIFIED)
    assert (event.actor, event.account, event.method) == (dm, acme, "dns")
    assert event.detail == {"domain": "acme.example"}
    assert is_verified_for(acme, "erin@ACME.example")
    assert realm_of("erin@acme.example").account == acme


def test_a_txt_record_split_into_several_strings_counts_as_one(acme, dm, dns_server):
    domain = add_domain_claim(acme, "acme.example", acting_user=dm)
    record = txt_record(domain)
    dns_server({"acme.example": [(record[:20], record[20:])]})
    verify_by_dns(domain, acting_user=dm)
    assert Domain.objects.get(pk=domain.pk).is_verified


@pytest.mark.parametrize("zones, silent, says", [
    ({"acme.example": ["mitel-domain-verification=someone-elses-token"]}, set(),
     "No TXT record of acme.example holds mitel-domain-verification="),
    ({"acme.example": []}, set(), "The DNS has no TXT record for acme.example yet."),
    ({}, set(), "The DNS says acme.example does not exist."),
    ({}, {"acme.example"}, "The DNS did not answer for acme.example in time."),
], ids=["wrong value", "no record", "unknown domain", "time-out"])
def test_without_the_right_txt_record_the_domain_stays_unverified(acme, dm, dns_server, settings,
                                                                  zones, silent, says):
    settings.DOMAIN_VERIFICATION_TIMEOUT = 1
    domain = add_domain_claim(acme, "acme.example", acting_user=dm)
    server = dns_server(zones, silent=silent)
    with pytest.raises(DomainNotVerified) as refused:
        verify_by_dns(domain, acting_user=dm)
    assert says in str(refused.value)
    assert server.queries and server.queries[0] == ("acme.example", "TXT")
    assert not Domain.objects.get(pk=domain.pk).is_verified
    assert not events(AuditEvent.Kind.DOMAIN_VERIFIED)
    assert not is_verified_for(acme, "erin@acme.example")


def test_the_record_of_a_subdomain_or_parent_does_not_verify(acme, dm, dns_server):
    domain = add_domain_claim(acme, "acme.example", acting_user=dm)
    dns_server({"www.acme.example": [txt_record(domain)], "example": [txt_record(domain)],
                "acme.example": []})
    with pytest.raises(DomainNotVerified):
        verify_by_dns(domain, acting_user=dm)


def test_a_second_account_may_claim_a_verified_domain_but_not_verify_it(acme, dm, dns_server, admin_user):
    mine = add_domain_claim(acme, "acme.example", acting_user=dm)
    approve_domain(mine, acting_user=admin_user)
    rival = MitelAccountFactory(name="Rival", okta=True)
    rival_dm = MembershipFactory(account=rival, decision_maker=True).user
    theirs = add_domain_claim(rival, "acme.example", acting_user=rival_dm)
    dns_server({"acme.example": [txt_record(theirs)]})  # they even control the DNS now
    with pytest.raises(DomainTaken, match="That domain is verified for another account."):
        verify_by_dns(theirs, acting_user=rival_dm)
    with pytest.raises(DomainTaken, match="That domain is verified for another account."):
        approve_domain(theirs, acting_user=admin_user)
    assert not Domain.objects.get(pk=theirs.pk).is_verified
    assert realm_of("erin@acme.example").account == acme
    assert len(events(AuditEvent.Kind.DOMAIN_VERIFIED)) == 1


def test_the_database_refuses_a_second_verification_even_when_the_check_is_raced(acme, dm, admin_user):
    from accounts.services.domains import mark_verified

    mine = add_domain_claim(acme, "acme.example", acting_user=dm)
    rival = MitelAccountFactory(name="Rival")
    theirs = Domain.objects.create(account=rival, name="acme.example", token="t")
    approve_domain(mine, acting_user=admin_user)
    with pytest.raises(DomainTaken):
        mark_verified(theirs, method="dns")
    assert Domain.objects.verified().get().account == acme


def test_mitel_staff_approve_a_domain_without_dns(acme, dm, admin_user):
    domain = add_domain_claim(acme, "acme.example", acting_user=dm)
    approve_domain(domain, acting_user=admin_user)
    domain.refresh_from_db()
    assert domain.is_verified and domain.verified_by == "staff"
    [event] = events(AuditEvent.Kind.DOMAIN_VERIFIED)
    assert (event.actor, event.method, event.account) == (admin_user, "staff", acme)


def test_contacts_and_support_staff_cannot_approve(acme, dm):
    from django.contrib.auth.models import Group

    support = UserFactory(staff=True)
    support.groups.add(Group.objects.get(name="Support staff"))
    domain = add_domain_claim(acme, "acme.example", acting_user=dm)
    for person in (dm, support):
        with pytest.raises(PermissionDenied):
            approve_domain(domain, acting_user=person)
    assert not Domain.objects.get(pk=domain.pk).is_verified
    assert not events(AuditEvent.Kind.DOMAIN_VERIFIED)


@pytest.mark.parametrize("role", ["technical_contact", "billing_contact", "emergency_contact"])
def test_contacts_who_do_not_manage_sso_cannot_claim_or_verify(acme, dm, role, dns_server):
    domain = add_domain_claim(acme, "acme.example", acting_user=dm)
    dns_server({"acme.example": [txt_record(domain)]})
    other = MembershipFactory(account=acme, **{role: True}).user
    with pytest.raises(PermissionDenied):
        add_domain_claim(acme, "other.example", acting_user=other)
    with pytest.raises(PermissionDenied):
        verify_by_dns(domain, acting_user=other)
    with pytest.raises(PermissionDenied):
        remove_domain(domain, acting_user=other)
    assert not Domain.objects.get(pk=domain.pk).is_verified


def test_a_decision_maker_of_another_account_cannot_claim_for_this_one(acme):
    stranger = MembershipFactory(decision_maker=True).user
    with pytest.raises(PermissionDenied):
        add_domain_claim(acme, "acme.example", acting_user=stranger)
    assert not Domain.objects.exists()


def test_removing_a_claim_frees_the_domain_and_is_audited(acme, dm, admin_user):
    domain = add_domain_claim(acme, "acme.example", acting_user=dm)
    approve_domain(domain, acting_user=admin_user)
    remove_domain(domain, acting_user=dm)
    assert not Domain.objects.exists()
    assert realm_of("erin@acme.example") is None
    [event] = events(AuditEvent.Kind.DOMAIN_REMOVED)
    assert (event.actor, event.account, event.detail) == (dm, acme, {"domain": "acme.example",
                                                                     "was_verified": True})
    rival = MitelAccountFactory(name="Rival")
    rival_dm = MembershipFactory(account=rival, decision_maker=True).user
    theirs = add_domain_claim(rival, "acme.example", acting_user=rival_dm)
    approve_domain(theirs, acting_user=admin_user)
    assert realm_of("erin@acme.example").account == rival


def test_nameservers_are_read_as_ip_and_port(settings):
    from accounts.services.domains import resolver_from_settings

    settings.DOMAIN_VERIFICATION_NAMESERVERS = ["127.0.0.1:5353", "[::1]:5354", "192.0.2.1"]
    resolver = resolver_from_settings()
    assert [(server.address, server.port) for server in resolver.nameservers] == [
        ("127.0.0.1", 5353), ("::1", 5354), ("192.0.2.1", 53)]
