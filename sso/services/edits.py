"""SSO connections changed in the Connect Portal: saved through ``save_connection`` and audited.

The audit event names what changed with the old and the new value, except the client secret: its
values are never written anywhere but the connection, only the fact that it changed.
"""

from django.db import transaction
from django.http import HttpRequest

from accounts.models import AuditEvent, User
from accounts.services import audit

from ..models import SsoConnection
from .connections import save_connection

AUDITED_FIELDS = ("protocol", "tenant_id", "issuer_url", "client_id", "saml_metadata_url",
                  "saml_idp_entity_id", "saml_sso_url", "saml_certificates", "saml_username_attribute")


def change_connection(
    connection: SsoConnection,
    *,
    new_secret: str = "",
    acting_user: User,
    request: HttpRequest | None = None,
) -> SsoConnection:
    """Save a new or changed ``connection``; an empty ``new_secret`` keeps the current secret."""
    with transaction.atomic():
        before = (
            SsoConnection.objects.select_for_update().filter(pk=connection.pk).first()
            if connection.pk else None
        )
        if new_secret:
            connection.client_secret = new_secret
        elif before is not None:
            connection.client_secret = before.client_secret
        save_connection(connection)
        changes = {
            name: [getattr(before, name) if before else "", getattr(connection, name)]
            for name in AUDITED_FIELDS
            if before is None or getattr(before, name) != getattr(connection, name)
        }
        audit.record(
            AuditEvent.Kind.SSO_CHANGED, request=request, actor=acting_user,
            account=connection.account, created=before is None, changes=changes,
            client_secret_changed=bool(new_secret),
        )
    return connection
