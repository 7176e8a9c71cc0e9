"""Saving an SSO connection together with the allauth ``SocialApp`` that backs it, and reading a SAML
connection's identity provider from its metadata."""

from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider
from django.contrib.sites.models import Site
from django.db import transaction

from ..models import SsoConnection


def app_settings(connection: SsoConnection) -> dict:
    """The ``SocialApp.settings`` of a connection: everything derives from the connection."""
    return {
        "server_url": connection.issuer,
        "oauth_pkce_enabled": True,
        "fetch_userinfo": True,
        "scope": ["openid", "profile", "email"],
        "identity_provider": connection.provider.key if connection.provider else "",
    }


@transaction.atomic
def save_connection(connection: SsoConnection) -> SsoConnection:
    """Validate and save ``connection``, and keep its ``SocialApp`` in step, in one transaction.

    The SocialApp (provider ``openid_connect``, provider id ``mitel-<account number>``) is what
    allauth reads at sign-in; it is never edited on its own.
    """
    if not connection.identity_provider and connection.provider is not None:
        connection.identity_provider = connection.provider.key
    connection.full_clean(exclude=["social_app"], validate_unique=False, validate_constraints=False)
    account = connection.account
    if connection.is_saml:
        # No SocialApp: allauth plays no part in SAML, and no OpenID Connect answer may still come in.
        SocialApp.objects.filter(provider_id=connection.provider_id).delete()
        connection.social_app = None
        connection.save()
        return connection
    app = connection.social_app
    if app is None:
        # Reuse an app left behind for this account (e.g. by an earlier connection) rather than
        # creating a second one, which allauth would refuse to choose between.
        app = (SocialApp.objects.filter(provider=OpenIDConnectProvider.id,
                                        provider_id=connection.provider_id)
               .order_by("pk").first()) or SocialApp()
    app.provider = OpenIDConnectProvider.id
    app.provider_id = connection.provider_id
    app.name = f"{account.name}"[:40]
    app.client_id = connection.client_id
    app.secret = connection.client_secret
    app.settings = app_settings(connection)
    app.save()
    app.sites.add(Site.objects.get_current())
    SocialApp.objects.filter(provider_id=connection.provider_id).exclude(pk=app.pk).delete()
    connection.social_app = app
    connection.save()
    return connection


def load_saml_metadata(connection: SsoConnection, *, document: bytes | str | None = None) -> SsoConnection:
    """Fill ``connection``'s identity provider from its metadata: ``document`` (an uploaded file), or
    fetched from ``saml_metadata_url`` (public addresses only, SECURITY.md 45). Not saved.

    Signing certificates roll over: those the metadata publishes are accepted, and the newest one
    accepted before stays while there is room for two, so answers signed with either pass while
    the identity provider rotates (``sso.saml.rolled_over``). Raises ``sso.saml.SamlRejected`` or
    ``requests.RequestException``.
    """
    from .. import saml

    if document is None:
        document = saml.fetch_metadata(connection.saml_metadata_url)
    metadata = saml.parse_metadata(document)
    if connection.saml_idp_entity_id and metadata.entity_id != connection.saml_idp_entity_id:
        kept: list[str] = []  # another identity provider: nothing of the old one is trusted
    else:
        kept = list(connection.saml_certificates or [])
    connection.saml_idp_entity_id = metadata.entity_id
    connection.saml_sso_url = metadata.sso_url
    connection.saml_certificates = saml.rolled_over(kept, metadata.certificates)
    return connection
