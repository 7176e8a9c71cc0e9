"""Authentication backends."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from .services import lockouts
from .usernames import canonical_username

UNSET = object()


class LockoutBackend(ModelBackend):
    """Django's password check, with every attempt counted before the hash (``services/lockouts``).

    A locked-out attempt is refused before any hash (SECURITY.md 9); a wrong password stays counted
    and ends the search (``PermissionDenied``: no other backend checks it again); a right one is
    given back. The request is marked for the pages and the audit receivers: ``lockout_locks`` (the
    locks to show), ``refused_by_lockout`` (no password was checked) and ``lockout_attempt`` (the
    failure, whose lockout the failure receiver records after the failure itself).
    """

    def authenticate(self, request, username=None, password=None, *, preloaded_user=UNSET, **kwargs):
        """``preloaded_user``: the user the caller loaded for ``username`` already (None: nobody
        has it), so that no second query loads it; the password is checked as Django does."""
        if username is None or password is None:
            return None
        known = {} if preloaded_user is UNSET else {"user": preloaded_user}
        try:
            attempt = lockouts.begin(request, username, **known)
        except lockouts.LockedOut as locked:
            if request is not None:
                request.lockout_locks = locked.locks
                request.refused_by_lockout = True
            raise PermissionDenied from None
        if preloaded_user is UNSET:
            user = super().authenticate(request, username=username, password=password, **kwargs)
            attempt.user = user if user is not None else lockouts.NOT_LOADED
        else:
            user = self.check(preloaded_user, username, password)
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

    def check(self, user, username: str, password: str):
        """``ModelBackend.authenticate`` for a user loaded already: one hash, whether or not the
        username exists (for none, the hash of a new password, as Django does: SECURITY.md 4)."""
        if user is None or user.get_username() != canonical_username(username):
            get_user_model()().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
