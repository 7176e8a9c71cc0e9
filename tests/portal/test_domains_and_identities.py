"""Domains and linked identities in the Connect Portal: a contact who manages an account's Single
Sign On claims, verifies and removes its domains and removes the links its identity provider made;
Mitel staff approve domains; support removes links. Nothing of B, ever, for A's contact."""

import pytest
from django.contrib.auth.models import Group

from accounts.models import AuditEvent, Domain
from accounts.services.domains import txt_record
from sso.models import LinkedIdentity
from tests.dns_server import LoopbackDns
from tests.factories import MembershipFactory, UserFactory
from tests.portal.conftest import b_markers_in, open_portal_as, text_of

pytestmark = pytest.mark.django_db

DOMAINS = "/admin/accounts/domain/"
LINKS = "/admin/sso/linkedidentity/"


def change_form_action(client, url, action, pk):
    return client.post(url, {"CHANGE_FORM-action": action, "_selected_action": pk}, follow=True)


@pytest.fixture
def support(client, two_accounts):
    person = UserFactory(username="support@mitel.example", staff=True)
    person.groups.add(Group.objects.get(name="Support staff"))
    return person


# --- domains --------------------------------------------------------------------------------------

def test_a_contact_claims_a_domain_sees_the_txt_record_and_verifies_it_by_dns(client, two_accounts, settings):
    t = two_accounts
    open_portal_as(client, t.ann)
    response = client.post(f"{DOMAINS}add/", {"account": t.a.pk, "name": "Alpha-Dental.example"}, follow=True)
    domain = Domain.objects.get(name="alpha-dental.example")
    assert domain.account == t.a and not domain.is_verified
    page = text_of(response)
    assert response.redirect_chain[-1][0] == f"{DOMAINS}{domain.pk}/change/"
    assert txt_record(domain) in page and "Waiting for verification" in page
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.DOMAIN_CLAIMED, actor=t.ann, account=t.a).exists()

    url = f"{DOMAINS}{domain.pk}/change/"
    with LoopbackDns({"alpha-dental.example": ["nothing to see"]}) as dns:
        settings.DOMAIN_VERIFICATION_NAMESERVERS = [dns.address]
        refused = change_form_action(client, url, "verify_domains", domain.pk)
        assert "No TXT record of alpha-dental.example holds" in text_of(refused)
        assert not Domain.objects.get(pk=domain.pk).is_verified
        dns.zones["alpha-dental.example"] = [txt_record(domain)]
        verified = change_form_action(client, url, "verify_domains", domain.pk)
    assert "The domain alpha-dental.example is verified for Alpha Dental." in text_of(verified)
    domain.refresh_from_db()
    assert domain.is_verified and domain.verified_by == "dns"
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.DOMAIN_VERIFIED)
    assert (event.actor, event.account, event.method) == (t.ann, t.a, "dns")


def test_a_contact_cannot_claim_a_domain_for_another_account(client, two_accounts):
    t = two_accounts
    open_portal_as(client, t.ann)
    response = client.post(f"{DOMAINS}add/", {"account": t.b.pk, "name": "evil.example"})
    assert response.status_code == 200 and "Select a valid choice" in text_of(response)
    assert not Domain.objects.filter(name="evil.example").exists()


def test_verifying_a_domain_verified_for_another_account_is_refused(client, two_accounts, settings):
    t = two_accounts
    open_portal_as(client, t.ann)
    client.post(f"{DOMAINS}add/", {"account": t.a.pk, "name": "bravo.example"})
    claim = Domain.objects.get(account=t.a, name="bravo.example")
    with LoopbackDns({"bravo.example": [txt_record(claim)]}) as dns:
        settings.DOMAIN_VERIFICATION_NAMESERVERS = [dns.address]
        response = change_form_action(client, f"{DOMAINS}{claim.pk}/change/", "verify_domains", claim.pk)
    assert "That domain is verified for another account." in text_of(response)
    assert not Domain.objects.get(pk=claim.pk).is_verified
    assert Domain.objects.verified().get(name="bravo.example").account == t.b


def test_a_contact_sees_only_their_accounts_domains_and_cannot_act_on_bs(client, two_accounts):
    t = two_accounts
    open_portal_as(client, t.ann)
    listed = client.get(DOMAINS)
    assert list(listed.context["cl"].result_list) == [t.a_domain]
    assert not b_markers_in(listed)
    assert client.get(f"{DOMAINS}{t.b_domain.pk}/change/").status_code == 404
    assert client.post(f"{DOMAINS}{t.b_domain.pk}/delete/", {"post": "yes"}).status_code == 404
    for action in ("verify_domains", "approve_domains", "delete_selected"):
        client.post(DOMAINS, {"action": action, "index": "0", "post": "yes",
                              "_selected_action": [t.b_domain.pk]})
    assert Domain.objects.filter(pk=t.b_domain.pk, verified_at__isnull=False).exists()
    assert not AuditEvent.objects.filter(account=t.b, kind__startswith="domain_").exists()


def test_contacts_are_not_offered_approval_and_cannot_approve(client, two_accounts):
    t = two_accounts
    claim = Domain.objects.create(account=t.a, name="new.example", token="tok")
    open_portal_as(client, t.ann)
    url = f"{DOMAINS}{claim.pk}/change/"
    assert "approve_domains" not in text_of(client.get(url))
    client.post(url, {"CHANGE_FORM-action": "approve_domains", "_selected_action": claim.pk})
    client.post(DOMAINS, {"action": "approve_domains", "index": "0", "_selected_action": [claim.pk]})
    assert not Domain.objects.get(pk=claim.pk).is_verified


def test_a_technical_contact_sees_the_domains_but_cannot_claim_verify_or_remove(client, two_accounts):
    t = two_accounts
    tech = MembershipFactory(account=t.a, technical_contact=True).user
    open_portal_as(client, tech)
    assert list(client.get(DOMAINS).context["cl"].result_list) == [t.a_domain]
    assert client.get(f"{DOMAINS}add/").status_code == 403
    page = text_of(client.get(f"{DOMAINS}{t.a_domain.pk}/change/"))
    assert "verify_domains" not in page and "/delete/" not in page
    assert client.post(f"{DOMAINS}{t.a_domain.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Domain.objects.filter(pk=t.a_domain.pk).exists()


def test_mitel_staff_approve_a_claim(client, two_accounts):
    t = two_accounts
    claim = Domain.objects.create(account=t.a, name="new.example", token="tok")
    admin_user = UserFactory(superuser=True)
    open_portal_as(client, admin_user)
    url = f"{DOMAINS}{claim.pk}/change/"
    response = change_form_action(client, url, "approve_domains", claim.pk)
    assert "The domain new.example is verified for Alpha Dental." in text_of(response)
    claim.refresh_from_db()
    assert claim.is_verified and claim.verified_by == "staff"
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.DOMAIN_VERIFIED)
    assert (event.actor, event.account, event.method) == (admin_user, t.a, "staff")


def test_support_sees_every_domain_but_cannot_approve(client, two_accounts, support):
    t = two_accounts
    claim = Domain.objects.create(account=t.a, name="new.example", token="tok")
    open_portal_as(client, support)
    assert set(client.get(DOMAINS).context["cl"].result_list) == {t.a_domain, t.b_domain, claim}
    client.post(f"{DOMAINS}{claim.pk}/change/", {"CHANGE_FORM-action": "approve_domains",
                                                 "_selected_action": claim.pk})
    assert not Domain.objects.get(pk=claim.pk).is_verified


def test_a_contact_removes_a_domain_and_the_removal_is_audited(client, two_accounts):
    t = two_accounts
    open_portal_as(client, t.ann)
    response = client.post(f"{DOMAINS}{t.a_domain.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Domain.objects.filter(pk=t.a_domain.pk).exists()
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.DOMAIN_REMOVED)
    assert (event.actor, event.account, event.detail["domain"]) == (t.ann, t.a, "alpha.example")


# --- linked identities ----------------------------------------------------------------------------

def test_a_contact_sees_their_users_links_to_their_identity_provider_only(client, two_accounts):
    t = two_accounts
    open_portal_as(client, t.ann)
    listed = client.get(LINKS)
    assert list(listed.context["cl"].result_list) == [t.amy_link]  # not sam's link at B's provider
    assert not b_markers_in(listed)
    for link in (t.bea_link, t.sam_b_link):
        assert client.get(f"{LINKS}{link.pk}/change/").status_code == 404
        assert client.post(f"{LINKS}{link.pk}/delete/", {"post": "yes"}).status_code == 404
    client.post(LINKS, {"action": "delete_selected", "index": "0", "post": "yes",
                        "_selected_action": [t.bea_link.pk, t.sam_b_link.pk]})
    assert LinkedIdentity.objects.filter(pk__in=[t.bea_link.pk, t.sam_b_link.pk]).count() == 2


def test_a_contact_removes_a_users_link_and_the_removal_is_audited(client, two_accounts):
    t = two_accounts
    open_portal_as(client, t.ann)
    response = client.post(f"{LINKS}{t.amy_link.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not LinkedIdentity.objects.filter(pk=t.amy_link.pk).exists()
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.IDENTITY_UNLINKED)
    assert (event.actor, event.user, event.account) == (t.ann, t.amy, t.a)
    assert event.detail == {"issuer": t.a_connection.issuer, "subject": "amy-sub"}


def test_a_technical_contact_sees_links_but_cannot_remove_them(client, two_accounts):
    t = two_accounts
    tech = MembershipFactory(account=t.a, technical_contact=True).user
    open_portal_as(client, tech)
    assert list(client.get(LINKS).context["cl"].result_list) == [t.amy_link]
    assert client.post(f"{LINKS}{t.amy_link.pk}/delete/", {"post": "yes"}).status_code == 403
    assert LinkedIdentity.objects.filter(pk=t.amy_link.pk).exists()


def test_support_sees_and_removes_any_link_within_reach(client, two_accounts, support):
    t = two_accounts
    staff_link = LinkedIdentity.objects.create(user=support, issuer=t.a_connection.issuer, subject="own")
    open_portal_as(client, support)
    assert set(client.get(LINKS).context["cl"].result_list) == {
        t.amy_link, t.bea_link, t.sam_b_link, staff_link}
    assert client.post(f"{LINKS}{t.bea_link.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not LinkedIdentity.objects.filter(pk=t.bea_link.pk).exists()
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.IDENTITY_UNLINKED)
    assert (event.actor, event.user, event.account) == (support, t.bea, t.b)
    # Their own link is beyond their reach (SECURITY.md 52).
    assert client.post(f"{LINKS}{staff_link.pk}/delete/", {"post": "yes"}).status_code == 403
    assert LinkedIdentity.objects.filter(pk=staff_link.pk).exists()
