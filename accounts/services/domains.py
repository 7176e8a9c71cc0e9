"""Domains an account claims, and the rule that ties an identity provider to them (SECURITY.md 43).

An account's identity provider signs in only usernames under domains verified for that account; a
domain is verified for one account at a time. The screen after Next follows the username's domain
(home-realm discovery), so it reveals nothing the identity provider's own discovery does not.
"""

from __future__ import annotations

import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone

from ..models import Domain, MitelAccount

TXT_PREFIX = "mitel-domain-verification="


def domain_of(username: str) -> str:
    """The domain of a username that is an e-mail address (lower case), else ""."""
    _, at, domain = (username or "").rpartition("@")
    return domain.strip().lower().rstrip(".") if at else ""


def realm_of(username: str) -> Domain | None:
    """The verified domain (with its account) a username falls under, if any: one indexed query."""
    domain = domain_of(username)
    if not domain:
        return None
    return Domain.objects.verified().select_related("account").filter(name=domain).first()


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
