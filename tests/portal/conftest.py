"""Two customer accounts, A ("Alpha") and B ("Bravo"), with their contacts, users and belongings.

Everything of B carries the word "bravo" (or B's account number), so a page that shows anything of B
to A's contact can be caught by reading it.
"""

import re
from dataclasses import dataclass
from datetime import timedelta
from html import escape
from urllib.parse import quote, quote_plus

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.models import AddressBlock, AuditEvent, Domain, LockoutCounter, MitelAccount, User
from sso.models import LinkedIdentity, SsoConnection
from tests.factories import MembershipFactory, MitelAccountFactory, UserFactory
from tests.signin import open_portal_as  # noqa: F401  (imported from here by the portal tests)

B_NUMBER = "909090"
B_MARKERS = ("bravo", B_NUMBER)
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"|csrftoken=[^;]*')


def text_of(response) -> str:
    """The body as a reader sees it, without the CSRF token (random letters could spell anything)."""
    body = b"".join(response) if response.streaming else response.content
    return CSRF.sub("", body.decode(errors="replace"))


def echoed_forms(value: str) -> list[str]:
    """``value`` as a page may repeat it: as is, HTML-escaped, in a query string, in a query string
    inside a query string (the admin's preserved filters)."""
    once = quote_plus(value)
    return sorted({escape(quote(once, safe="")), escape(once), escape(quote(value, safe="")),
                   escape(value), value}, key=len, reverse=True)


def b_markers_in(response, *, ignore: tuple[str, ...] = ()) -> list[str]:
    text = text_of(response).lower()
    for echoed in ignore:  # a value the request itself sent, echoed back in a box or in links
        for form in echoed_forms(echoed):
            text = text.replace(form.lower(), "")
    return [marker for marker in B_MARKERS if marker in text]


def lock_out(user: User, *, ip: str = "203.0.113.66") -> LockoutCounter:
    from accounts.services.lockouts import lock_username

    return lock_username(user.username, address=ip)


def block_address(ip: str = "203.0.113.77") -> AddressBlock:
    """An address blocked for spraying, as ``LOCKOUT_ADDRESS_FAILURE_LIMIT`` failures leave it."""
    now = timezone.now()
    return AddressBlock.objects.create(
        scope=LockoutCounter.Scope.ADDRESS, key=ip, failures=settings.LOCKOUT_ADDRESS_FAILURE_LIMIT,
        last_failure_at=now, locked_until=now + settings.LOCKOUT_ADDRESS_COOLOFF, lockouts=1)


@dataclass
class TwoAccounts:
    a: MitelAccount
    b: MitelAccount
    ann: User  # Decision Maker of A
    amy: User  # a user of A
    pat: User  # Phone Manager of A
    ben: User  # Decision Maker of B
    bea: User  # a user of B
    sam: User  # a user of A, and Decision Maker of B: a shared username
    a_connection: SsoConnection
    b_connection: SsoConnection
    b_event: AuditEvent
    b_event_about_sam: AuditEvent
    a_event: AuditEvent
    a_domain: Domain  # alpha.example, verified for A
    b_domain: Domain  # bravo.example, verified for B
    amy_link: LinkedIdentity  # amy at A's identity provider
    bea_link: LinkedIdentity  # bea at B's identity provider
    sam_b_link: LinkedIdentity  # sam (shared) at B's identity provider: B's business

    def b_only(self) -> dict[type, set[int]]:
        """Primary keys of what belongs to B alone, per model."""
        return {
            User: {self.ben.pk, self.bea.pk},
            MitelAccount: {self.b.pk},
            SsoConnection: {self.b_connection.pk},
            AuditEvent: set(AuditEvent.objects.filter(account=self.b).values_list("pk", flat=True)),
            Domain: {self.b_domain.pk},
            LinkedIdentity: {self.bea_link.pk, self.sam_b_link.pk},
        }


@pytest.fixture
def two_accounts(db) -> TwoAccounts:
    a = MitelAccountFactory(name="Alpha Dental", account_number="808080", partner_label="ALPHA",
                            authentication="azure_ad", allow_password_sign_in=True)
    b = MitelAccountFactory(name="Bravo Widgets", account_number=B_NUMBER, partner_label="BRAVO",
                            authentication="azure_ad")
    ann = UserFactory(username="ann@alpha.example", first_name="Ann", last_name="Alder")
    amy = UserFactory(username="amy@alpha.example", first_name="Amy", last_name="Ash")
    pat = UserFactory(username="pat@alpha.example", first_name="Pat", last_name="Pine")
    ben = UserFactory(username="ben@bravo.example", first_name="Ben", last_name="Bravo")
    bea = UserFactory(username="bea@bravo.example", first_name="Bea", last_name="Bravo")
    sam = UserFactory(username="sam@shared.example", first_name="Sam", last_name="Shared")
    MembershipFactory(user=ann, account=a, is_decision_maker=True)
    MembershipFactory(user=amy, account=a)
    MembershipFactory(user=pat, account=a, is_phone_manager=True)
    MembershipFactory(user=sam, account=a)
    MembershipFactory(user=ben, account=b, is_decision_maker=True)
    MembershipFactory(user=bea, account=b, is_technical_contact=True)
    MembershipFactory(user=sam, account=b, is_decision_maker=True, is_billing_contact=True)
    a_connection = SsoConnection.objects.create(
        account=a, tenant_id="0a0a0a0a-0000-4000-8000-000000000001", client_id="alpha-client-id",
        client_secret="alpha-secret-value",
    )
    b_connection = SsoConnection.objects.create(
        account=b, tenant_id="0b0b0b0b-0000-4000-8000-000000000002", client_id="bravo-client-id",
        client_secret="bravo-secret-value",
    )
    yesterday = timezone.now() - timedelta(days=1)
    b_event = AuditEvent.objects.create(
        kind=AuditEvent.Kind.SIGN_IN, user=bea, username=bea.username, account=b,
        ip_address="198.51.100.2", detail={"note": "bravo sign-in"}, created_at=yesterday,
    )
    b_event_about_sam = AuditEvent.objects.create(
        kind=AuditEvent.Kind.ROLES_CHANGED, user=sam, username=sam.username, account=b, actor=ben,
        detail={"note": "bravo roles"}, created_at=yesterday,
    )
    a_event = AuditEvent.objects.create(
        kind=AuditEvent.Kind.SIGN_IN, user=amy, username=amy.username, account=a, created_at=yesterday,
    )
    a_domain = Domain.objects.create(account=a, name="alpha.example", token="alpha-token",
                                     verified_at=yesterday, verified_by="dns")
    b_domain = Domain.objects.create(account=b, name="bravo.example", token="bravo-token",
                                     verified_at=yesterday, verified_by="staff")
    amy_link = LinkedIdentity.objects.create(user=amy, issuer=a_connection.issuer, subject="amy-sub")
    bea_link = LinkedIdentity.objects.create(user=bea, issuer=b_connection.issuer, subject="bravo-bea-sub")
    sam_b_link = LinkedIdentity.objects.create(user=sam, issuer=b_connection.issuer, subject="bravo-sam-sub")
    return TwoAccounts(a, b, ann, amy, pat, ben, bea, sam, a_connection, b_connection, b_event,
                       b_event_about_sam, a_event, a_domain, b_domain, amy_link, bea_link, sam_b_link)


@pytest.fixture
def b_belongings(two_accounts):
    """One object of every model registered in the Connect Portal that belongs to B (or, for models
    that belong to no account, that A's contact has no business seeing). Keyed by model label."""
    from allauth.account.models import EmailAddress
    from allauth.socialaccount.models import SocialAccount
    from django.contrib.auth.models import Group
    from django.contrib.sites.models import Site
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.models import Application, Invitation

    t = two_accounts
    bea = t.bea
    lock_out(bea)
    return {
        "accounts.User": t.bea,
        "accounts.MitelAccount": t.b,
        "accounts.AuditEvent": t.b_event,
        "accounts.Invitation": Invitation.objects.create(
            account=t.b, user=bea, invited_by=t.ben, roles=["technical_contact"], token="bravo-token",
            expires_at=timezone.now() + timedelta(days=14)),
        "accounts.Application": Application.objects.create(
            slug="bravo-app", name="Bravo app", home_url="https://bravo.example/"),
        "sso.SsoConnection": t.b_connection,
        "accounts.Domain": t.b_domain,
        "sso.LinkedIdentity": t.bea_link,
        "auth.Group": Group.objects.create(name="bravo group"),
        "sites.Site": Site.objects.create(domain="bravo.example", name="bravo"),
        "socialaccount.SocialAccount": SocialAccount.objects.create(
            user=bea, provider=f"mitel-{B_NUMBER}", uid="bravo-uid"),
        "account.EmailAddress": EmailAddress.objects.create(user=bea, email=bea.username),
        "otp_totp.TOTPDevice": TOTPDevice.objects.create(user=bea, name="bravo phone"),
        "otp_static.StaticDevice": StaticDevice.objects.create(user=bea, name="bravo codes"),
        "accounts.AddressBlock": block_address("198.51.100.2"),
    }
