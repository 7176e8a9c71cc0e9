"""The Connect Portal's model admins for users, Mitel accounts, applications and the audit trail."""

from . import audit, mitel_accounts, sso, users  # noqa: F401  (each registers its model admins)
