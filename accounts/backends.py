"""Authentication backends."""

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from .services import lockouts


class LockoutBackend(ModelBackend):
    """Django's password check, with every attempt counted before the hash (``services/lockouts``).

    A locked-out attempt is refused before any hash (SECURITY.md 9); a wrong password stays counted
    and ends the search (``PermissionDenied``: no other backend checks it again); a right one is
    given back. The request is marked for the pages and the audit receivers: ``lockout_locks`` (the
    locks to show), ``refused_by_lockout`` (no password was checked) and ``lockout_attempt`` (the
    failure, whose lockout the failure receiver records after the failure itself).
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        try:
            attempt = lockouts.begin(request, username)
        except lockouts.LockedOut as locked:
            if request is not None:
                request.lockout_locks = locked.locks
                request.refused_by_lockout = True
            raise PermissionDenied from None
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            if request is None:
                attempt.failed()
            else:
                request.lockout_attempt = attempt
                if attempt.started:
                    request.lockout_locks = attempt.started
            raise PermissionDenied
        attempt.succeeded()
        return user
