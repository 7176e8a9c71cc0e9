"""Saving SSO connections. The SSO work replaces this body: it also keeps the allauth SocialApp in step."""

from django.db import transaction

from ..models import SsoConnection


def save_connection(connection: SsoConnection) -> SsoConnection:
    """Save ``connection`` (and, once the SSO work lands, its allauth SocialApp) in one transaction."""
    with transaction.atomic():
        connection.save()
    return connection
