"""What an ID token and userinfo say about the person.

Identity-provider differences are data (each provider's ``claims`` in ``sso.providers``);
``identity_from_claims`` is the one rule that reads them.
"""

from dataclasses import dataclass

from accounts.usernames import canonical_username

from . import providers


@dataclass(frozen=True)
class SsoIdentity:
    """The person the identity provider vouched for."""

    issuer: str
    subject: str
    username: str  # the enterprise username, canonical form; "" when none was asserted
    username_claim: str  # which claim gave it
    email: str = ""


def _claim(document: dict, name: str) -> str:
    value = document.get(name)
    if not isinstance(value, str) or not value.strip():
        return ""
    if name == "email" and document.get("email_verified") is not True:
        return ""  # an unverified address is only a label: never a username (SECURITY.md 20)
    return value


def _saml_value(answer, name: str) -> str:
    """The first value of attribute ``name`` in a verified SAML assertion (``NameID``: its subject)."""
    if name == "NameID":
        return answer.name_id
    values = answer.attributes.get(name) or []
    return next((value for value in values if isinstance(value, str) and value.strip()), "")


def identity_from_assertion(authentication: str, answer, *, username_attribute: str = "") -> SsoIdentity:
    """The identity in a verified SAML assertion (``sso.saml.SamlAnswer``), per the provider's mapping.

    ``username_attribute`` is the connection's own choice, where its identity provider sends the
    username elsewhere than usual.
    """
    mapping = providers.get(authentication).saml
    username, source = "", ""
    for name in (username_attribute,) if username_attribute else mapping.username:
        username = _saml_value(answer, name)
        if username:
            source = name
            break
    subject = next((value for name in mapping.subject if (value := _saml_value(answer, name))), "")
    return SsoIdentity(
        issuer=answer.issuer,
        subject=subject,
        username=canonical_username(username),
        username_claim=source,
    )


def identity_from_claims(authentication: str, *, id_token: dict, userinfo: dict) -> SsoIdentity:
    """The identity in ``id_token`` (verified) and ``userinfo`` (same ``sub``), per the provider's mapping."""
    mapping = providers.get(authentication).claims
    username, source = "", ""
    for name in mapping.username:
        for document in (id_token, userinfo):
            username = _claim(document, name)
            if username:
                source = name
                break
        if username:
            break
    email = id_token.get("email") or userinfo.get("email") or ""
    return SsoIdentity(
        issuer=str(id_token["iss"]),
        subject=str(id_token["sub"]),
        username=canonical_username(username),
        username_claim=source,
        email=email if isinstance(email, str) else "",
    )
