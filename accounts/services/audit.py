"""The audit trail: one call to record an event, from services and receivers."""

from typing import Any

from django.http import HttpRequest

from ..clientip import client_ip
from ..models import Application, AuditEvent, MitelAccount, User


def record(
    kind: str,
    *,
    request: HttpRequest | None = None,
    user: User | None = None,
    actor: User | None = None,
    account: MitelAccount | None = None,
    application: Application | None = None,
    username: str = "",
    method: str = "",
    **detail: Any,
) -> AuditEvent:
    """Write one audit event. Call it inside the transaction of the change it records."""
    ip, agent = None, ""
    if request is not None:
        ip = client_ip(request)
        agent = request.META.get("HTTP_USER_AGENT", "")[:512]
    return AuditEvent.objects.create(
        kind=kind,
        user=user,
        actor=actor,
        account=account,
        application=application,
        username=(username or (user.username if user else ""))[:254],
        method=method,
        ip_address=ip,
        user_agent=agent,
        detail=detail,
    )
