"""Authentication backends."""

from axes.backends import AxesStandaloneBackend
from axes.exceptions import AxesBackendPermissionDenied


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' gatekeeper, which also marks the request when it refuses an attempt.

    Axes reports a refused attempt and the failure that triggers a lockout through the same
    signals; the mark lets the audit trail tell "refused, no password checked" from "wrong
    password".
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        try:
            return super().authenticate(request, username=username, password=password, **kwargs)
        except AxesBackendPermissionDenied:
            request.refused_by_lockout = True
            raise
