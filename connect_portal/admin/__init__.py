"""The Connect Portal's model admins: users, invitations, Mitel accounts, applications, SSO
connections, domains, linked identities and the audit trail."""

# otp takes django-otp's own admin out (SECURITY.md 53)
from . import (  # noqa: F401  (each registers)
    audit,
    domains,
    invitations,
    linked_identities,
    mitel_accounts,
    otp,
    sso,
    users,
)
