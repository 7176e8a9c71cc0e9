"""The Connect Portal's model admins: users, Mitel accounts, applications, SSO connections, domains,
linked identities and the audit trail."""

# otp takes django-otp's own admin out (SECURITY.md 53)
from . import audit, domains, linked_identities, mitel_accounts, otp, sso, users  # noqa: F401
