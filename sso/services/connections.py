"""Saving an SSO connection together with the allauth ``SocialApp`` that backs it."""

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
