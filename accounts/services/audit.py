"""The audit trail: one call to record an event, from services and receivers.

An event about a person is written once for each account they belong to at that moment
(``record_about``), rather than once with a list of accounts: each account's contacts then read
their events through the ``account`` column and its index, as for every other event, and what an
account's trail holds never changes when the person later joins or leaves an account. People
belong to one or two accounts, so the cost is a row or two more per event.
"""

from collections.abc import Iterable
from typing import Any

from django.http import HttpRequest

from ..clientip import client_ip
from ..models import Application, AuditEvent, MitelAccount, User
from ..rows import insert


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
    ip_address: str | None = None,
    user_agent: str = "",
    save: bool = True,
    **detail: Any,
) -> AuditEvent:
    """Write one audit event. Call it inside the transaction of the change it records.

    ``save=False``: the event is only made, for the caller to write with its change (a sign-in's,
    with the session: ``SessionStore.save_with_insert``).

    The client's address and browser come from ``request``; work done outside the request (a task)
    passes the ones its request recorded as ``ip_address`` and ``user_agent``.
    """
    ip, agent = ip_address, user_agent[:512]
    if request is not None:
        ip = client_ip(request)
        agent = request.META.get("HTTP_USER_AGENT", "")[:512]
    event = AuditEvent(
        kind=kind,
        user=user,
        actor=actor,
        account=account,
        application=application,
        username=(username or (user.username if user else ""))[:254],
        actor_username=(actor.username if actor else "")[:254],
        method=method,
        ip_address=ip,
        user_agent=agent,
        detail=detail,
    )
    if save:
        insert(event)  # as event.save(force_insert=True), by SQL written once per call
    return event


def accounts_of(user: User) -> list[MitelAccount | None]:
    """The accounts ``user`` belongs to now, or ``[None]`` (an event of Mitel staff's only)."""
    return list(MitelAccount.objects.filter(memberships__user=user).order_by("pk")) or [None]


def record_about(kind: str, *, user: User, accounts: Iterable[MitelAccount | None] | None = None,
                 **fields: Any) -> list[AuditEvent]:
    """Write one event about ``user`` in each of ``accounts`` (by default every account they belong
    to now), so each account's contacts see it. Call it inside the change's transaction."""
    accounts = accounts_of(user) if accounts is None else list(accounts) or [None]
    return [record(kind, user=user, account=account, **fields) for account in accounts]
