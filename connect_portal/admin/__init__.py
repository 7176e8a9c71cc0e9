"""The Connect Portal's model admins: users, invitations, Mitel accounts, applications, SSO
connections, domains, linked identities and the audit trail."""

from . import (  # noqa: F401  (each registers)
    audit,
    domains,
    invitations,
    linked_identities,
    mitel_accounts,
    sso,
    users,
)
