"""What Mitel needs to know about an identity provider: its names, its claims, its connection fields.

A provider is one module in this package holding one ``Provider`` subclass instance named
``provider`` (``sso.providers`` finds it). Forms, pages and the sign-in ask it; nothing outside
this package names a provider.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import urlsplit

from django.utils.translation import gettext, gettext_lazy

if TYPE_CHECKING:
    from sso.models import SsoConnection


@dataclass(frozen=True)
class ClaimsMapping:
    """Where one identity provider puts the enterprise username."""

    # Claims tried in order, each first in the (signed) ID token, then in userinfo.
    username: tuple[str, ...]


@dataclass(frozen=True)
class SamlMapping:
    """Where one identity provider puts the enterprise username, and a stable ID, in a SAML assertion.

    Names are attribute names, tried in order; ``NameID`` means the assertion's subject NameID.
    """

    username: tuple[str, ...]
    subject: tuple[str, ...] = ("NameID",)


@dataclass(frozen=True)
class ConnectionField:
    """A field of ``SsoConnection`` the provider needs, named as the provider's own console names it.

    ``name`` is the model field, or ``client_secret`` for the write-only secret.
    """

    name: str
    label: str
    help_text: str = ""
    required: bool = True
    # Only for a test OpenID provider on this machine: shown when DEBUG is on or a value is set.
    test_only: bool = False


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Provider:
    """One identity provider. Subclasses set the class attributes; most override nothing else."""

    key: ClassVar[str]  # the MitelAccount.authentication value of accounts that use it (stored)
    name: ClassVar[str]  # as people know it: "Okta"
    beta: ClassVar[bool] = False  # offered only to accounts in the beta (MitelAccount.okta_beta)
    claims: ClassVar[ClaimsMapping]
    saml: ClassVar[SamlMapping] = SamlMapping(username=("NameID",))
    fields: ClassVar[tuple[ConnectionField, ...]]
    # Where to register the redirect URI at the provider; "{uri}" is replaced by the full URI.
    redirect_help: ClassVar[str]
    # Where to register a SAML connection; "{entity_id}" and "{acs_url}" are replaced.
    saml_help: ClassVar[str] = gettext_lazy(
        "At your identity provider, register the SP entity ID {entity_id} and the Assertion Consumer "
        "Service URL {acs_url}.")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.key}>"

    def field(self, name: str) -> ConnectionField | None:
        return next((field for field in self.fields if field.name == name), None)

    def issuer(self, connection: SsoConnection) -> str:
        """The ``iss`` of this connection's tokens, also where its discovery document is."""
        return connection.issuer_url.rstrip("/")

    def clean(self, connection: SsoConnection) -> dict[str, str]:
        """Errors by field name: the required fields, then ``validate``."""
        errors = {}
        for field in self.fields:
            if field.required and field.name != "client_secret" and not getattr(connection, field.name):
                errors[field.name] = gettext("Enter the %(field)s.") % {"field": field.label}
        return {**errors, **self.validate(connection)}

    def validate(self, connection: SsoConnection) -> dict[str, str]:
        """Rules of this provider beyond required fields, as errors by field name."""
        return {}


def issuer_url_error(url: str) -> str:
    """Why ``url`` cannot be an issuer ("" if it can): https to a public address (SECURITY.md 45).

    Plain http and loopback only for a test provider on this machine, with DEBUG. The same rules
    hold again at fetch time, for the address the name resolves to then (``sso.outbound``).
    """
    from sso.outbound import url_refusal

    parts = urlsplit(url)
    if parts.query or parts.fragment:
        return "The issuer URL has no query or fragment."
    refused = url_refusal(url)
    return f"The issuer URL {refused}." if refused else ""
