"""The Connect Portal's model admins: users, Mitel accounts, applications, SSO connections, domains,
linked identities and the audit trail."""

from . import audit, domains, linked_identities, mitel_accounts, sso, users  # noqa: F401  (each registers)
