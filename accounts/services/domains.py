"""Domains an account claims, and the rule that ties an identity provider to them (SECURITY.md 43).

An account's identity provider signs in only usernames under domains verified for that account; a
domain is verified for one account at a time. The screen after Next follows the username's domain
(home-realm discovery), so it reveals nothing the identity provider's own discovery does not.
"""

from __future__ import annotations

import re
import secrets

import dns.exception
import dns.nameserver
import dns.resolver
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from ..models import AuditEvent, Domain, MitelAccount, User
from ..precompiled import Precompiled
from . import audit

TXT_PREFIX = "mitel-domain-verification="


def domain_of(username: str) -> str:
    """The domain of a username that is an e-mail address (lower case), else ""."""
    _, at, domain = (username or "").rpartition("@")
    return domain.strip().lower().rstrip(".") if at else ""


# Asked at every Next: built and compiled once (issue 17). A domain is verified for one account at
# a time, so there is at most one row.
_verified_domain = Precompiled(
    lambda name: Domain.objects.verified().select_related("account").filter(name=name)[:1], "\x1f")


def realm_of(username: str) -> Domain | None:
    """The verified domain (with its account) a username falls under, if any: one indexed query."""
    domain = domain_of(username)
    if not domain:
        return None
    found = _verified_domain(domain)
    return found[0] if found else None


def is_verified_for(account: MitelAccount, username: str) -> bool:
    domain = domain_of(username)
    return bool(domain) and Domain.objects.verified().filter(account=account, name=domain).exists()


def txt_record(domain: Domain) -> str:
    """What the account's DNS must publish as a TXT record on the domain to prove it owns it."""
    return f"{TXT_PREFIX}{domain.token}"


def claim_domain(account: MitelAccount, name: str) -> Domain:
    """The account's claim on ``name`` (created once, with the token its TXT record must hold)."""
    name = name.strip().lower().rstrip(".")
    domain, _ = Domain.objects.get_or_create(
        account=account, name=name, defaults={"token": secrets.token_urlsafe(24)})
    return domain


class DomainTaken(Exception):
    """The domain is verified for another account already."""


def mark_verified(domain: Domain, *, method: str, now=None) -> Domain:
    """Verified for ``domain.account``; refused while another account holds it verified."""
    try:
        with transaction.atomic():
            domain.verified_at = now or timezone.now()
            domain.verified_by = method
            domain.save(update_fields=["verified_at", "verified_by"])
    except IntegrityError:
        domain.verified_at, domain.verified_by = None, ""
        raise DomainTaken(domain.name) from None
    return domain


TAKEN_MESSAGE = gettext_lazy("That domain is verified for another account.")
# Letters, digits and hyphens in labels of 1 to 63 characters, at least two labels, a top-level
# label of letters (IDNs in their xn-- form): what can hold a TXT record and end a username.
DOMAIN_NAME = re.compile(
    r"^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$")


class DomainNotVerified(Exception):
    """The DNS check did not find the TXT record; the message says what the DNS answered."""


def clean_domain_name(name: str) -> str:
    """``name`` lower-cased without a trailing dot, or ValidationError when it is no domain name."""
    cleaned = (name or "").strip().lower().rstrip(".")
    if cleaned.startswith("@"):
        cleaned = cleaned[1:]
    if not DOMAIN_NAME.match(cleaned):
        raise ValidationError(gettext("Enter a domain name such as example.com (no @, no https://)."),
                              code="invalid")
    return cleaned


def may_manage_domains(user: User, account: MitelAccount) -> bool:
    """Whether ``user`` may claim, verify and remove domains of ``account`` (manages its SSO)."""
    from .memberships import Ability, accounts_visible_to

    return accounts_visible_to(user, Ability.MANAGE_SSO).filter(pk=account.pk).exists()


def may_approve_domains(user: User) -> bool:
    """Mitel staff holding ``accounts.approve_domain`` (not support staff: approving hands a domain's
    usernames to an identity provider)."""
    return user.is_active and user.is_staff and user.has_perm("accounts.approve_domain")


def _ensure_may_manage(user: User, account: MitelAccount) -> None:
    if not may_manage_domains(user, account):
        raise PermissionDenied(gettext("You do not manage Single Sign On of this account."))


def add_domain_claim(account: MitelAccount, name: str, *, acting_user: User,
                     request: HttpRequest | None = None) -> Domain:
    """``account``'s claim on the domain ``name``, audited when new. Claiming is allowed while
    another account holds the domain verified; verifying then is not."""
    _ensure_may_manage(acting_user, account)
    name = clean_domain_name(name)
    with transaction.atomic():
        existing = Domain.objects.filter(account=account, name=name).first()
        if existing is not None:
            return existing
        domain = claim_domain(account, name)
        audit.record(AuditEvent.Kind.DOMAIN_CLAIMED, request=request, actor=acting_user,
                     account=account, domain=domain.name)
    return domain


def _verify(domain: Domain, *, method: str, acting_user: User, request: HttpRequest | None,
            now=None) -> Domain:
    with transaction.atomic():
        mark_verified(domain, method=method, now=now)
        audit.record(AuditEvent.Kind.DOMAIN_VERIFIED, request=request, actor=acting_user,
                     account=domain.account, method=method, domain=domain.name)
    return domain


def _ensure_free(domain: Domain) -> None:
    if Domain.objects.verified().filter(name=domain.name).exclude(account_id=domain.account_id).exists():
        raise DomainTaken(TAKEN_MESSAGE)


def resolver_from_settings() -> dns.resolver.Resolver:
    """A resolver asking ``DOMAIN_VERIFICATION_NAMESERVERS`` (the system's when empty), uncached."""
    servers = settings.DOMAIN_VERIFICATION_NAMESERVERS
    resolver = dns.resolver.Resolver(configure=not servers)
    if servers:
        resolver.nameservers = [_nameserver(server) for server in servers]
    resolver.lifetime = resolver.timeout = float(settings.DOMAIN_VERIFICATION_TIMEOUT)
    resolver.cache = None
    return resolver


def _nameserver(server: str) -> dns.nameserver.Do53Nameserver:
    """``"ip:port"``, ``"[ipv6]:port"`` or a bare address (port 53)."""
    host, port = server.strip(), 53
    if host.startswith("["):
        host, _, rest = host[1:].partition("]")
        port = int(rest.lstrip(":") or 53)
    elif host.count(":") == 1:
        host, _, port_text = host.partition(":")
        port = int(port_text)
    return dns.nameserver.Do53Nameserver(host, port)


def published_txt(name: str, resolver: dns.resolver.Resolver) -> list[str]:
    """The TXT records of ``name`` (each record's strings joined), or DomainNotVerified saying why none."""
    try:
        answer = resolver.resolve(name, "TXT", search=False)
    except dns.resolver.NXDOMAIN:
        raise DomainNotVerified(f"The DNS says {name} does not exist.") from None
    except dns.resolver.NoAnswer:
        raise DomainNotVerified(f"The DNS has no TXT record for {name} yet.") from None
    except dns.exception.Timeout:
        raise DomainNotVerified(f"The DNS did not answer for {name} in time. Try again later.") from None
    except dns.resolver.NoNameservers:
        raise DomainNotVerified(f"No name server answered for {name}. Try again later.") from None
    except dns.exception.DNSException as error:
        raise DomainNotVerified(f"The DNS look-up of {name} failed ({error.__class__.__name__}).") from None
    return [b"".join(record.strings).decode("utf-8", "replace") for record in answer]


def verify_by_dns(domain: Domain, *, acting_user: User, request: HttpRequest | None = None,
                  resolver: dns.resolver.Resolver | None = None, now=None) -> Domain:
    """Verified when one TXT record of the domain equals ``txt_record(domain)``.

    Raises DomainNotVerified (what the DNS answered), DomainTaken (verified for another account)
    or PermissionDenied. The look-up happens outside any transaction; the verification and its
    audit event are written together.
    """
    _ensure_may_manage(acting_user, domain.account)
    if domain.is_verified:
        return domain
    _ensure_free(domain)
    expected = txt_record(domain)
    found = published_txt(domain.name, resolver or resolver_from_settings())
    if expected not in (value.strip() for value in found):
        raise DomainNotVerified(
            f"No TXT record of {domain.name} holds {expected}"
            + (f" (it has {len(found)} other TXT record{'s' if len(found) != 1 else ''})." if found else ".")
            + " DNS changes can take a while to show: try again later.")
    try:
        return _verify(domain, method=Domain.Method.DNS, acting_user=acting_user, request=request, now=now)
    except DomainTaken:
        raise DomainTaken(TAKEN_MESSAGE) from None


def approve_domain(domain: Domain, *, acting_user: User, request: HttpRequest | None = None,
                   now=None) -> Domain:
    """Verified by a Mitel staff member's word (``accounts.approve_domain``), without DNS."""
    if not may_approve_domains(acting_user):
        raise PermissionDenied(gettext("Only Mitel staff can approve a domain."))
    if domain.is_verified:
        return domain
    _ensure_free(domain)
    try:
        return _verify(domain, method=Domain.Method.STAFF, acting_user=acting_user, request=request, now=now)
    except DomainTaken:
        raise DomainTaken(TAKEN_MESSAGE) from None


def remove_domain(domain: Domain, *, acting_user: User, request: HttpRequest | None = None) -> None:
    """The claim withdrawn: the account's identity provider no longer signs in usernames under it."""
    _ensure_may_manage(acting_user, domain.account)
    with transaction.atomic():
        audit.record(AuditEvent.Kind.DOMAIN_REMOVED, request=request, actor=acting_user,
                     account=domain.account, domain=domain.name, was_verified=domain.is_verified)
        domain.delete()
