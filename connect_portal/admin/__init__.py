"""The Connect Portal's model admins: users, invitations, Mitel accounts, applications, SSO
connections, domains, linked identities, the audit trail and blocked addresses."""

from django.contrib import admin
from django_tasks_db.models import DBTaskResult

# otp takes django-otp's own admin out (SECURITY.md 53)
from . import (  # noqa: F401  (each registers)
    audit,
    domains,
    invitations,
    linked_identities,
    lockouts,
    mitel_accounts,
    otp,
    sso,
    users,
)

# The task queue holds what people typed on the forgot-password page and their addresses: not a
# Connect Portal page. Operators read the worker's log (README "Deployment").
if admin.site.is_registered(DBTaskResult):
    admin.site.unregister(DBTaskResult)
