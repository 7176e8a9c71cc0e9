"""``SESSION_ENGINE``: database sessions that know their user, so a user's sessions can be ended."""

from collections.abc import Callable

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import InterfaceError, OperationalError, router, transaction
from django.dispatch import Signal

from . import session_life

# Sent with ``user`` and ``sessions`` (each one's data, decoded) after they are ended: what was
# signed in with them (applications' tokens) ends too.
sessions_ended = Signal()


class SessionStore(DatabaseSessionStore):
    """Django's database store, plus writes that commit with the session (``save_with``)."""

    def __init__(self, session_key: str | None = None) -> None:
        super().__init__(session_key)
        self._with_save: list[Callable[[], object]] = []

    def save_with(self, write: Callable[[], object]) -> None:
        """Run ``write`` in the transaction of this session's next save: both commit, or neither.

        The sign-in's audit event goes here (accounts.receivers): SessionMiddleware saves the
        session after the view, and a sign-in whose session was not saved never reached the
        browser, so it must not be in the audit trail either (SECURITY.md 38).
        """
        self._with_save.append(write)
        self.modified = True

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None:
            return self.create()  # which saves again, with a new key
        using = router.db_for_write(self.model)
        try:
            with transaction.atomic(using=using):
                super().save(must_create)
                for write in self._with_save:
                    write()
        except UpdateError as error:
            # Django reads any database error on update as "the session was deleted meanwhile" and
            # answers 400; a lost connection is the database being down: the 503 page says so.
            if isinstance(error.__context__, OperationalError | InterfaceError):
                raise error.__context__ from None
            raise
        self._with_save.clear()

    @classmethod
    def get_model_class(cls):
        from .models import UserSession

        return UserSession

    def create_model_instance(self, data):
        session = super().create_model_instance(data)
        try:
            session.user_id = int(data.get(SESSION_KEY))
        except (TypeError, ValueError):
            session.user_id = None
        session_life.describe(session, data)  # /me/'s columns; a short life for "No" (SECURITY.md 51)
        return session


def end_sessions(user, *, keep: str | None = None, only: str | None = None) -> int:
    """Delete the user's sessions but ``keep`` (a session key), or ``only`` that one: those
    browsers are signed out at once, and ``sessions_ended`` ends what was signed in with them."""
    from .models import UserSession

    sessions = UserSession.objects.filter(user_id=user.pk)
    if keep:
        sessions = sessions.exclude(session_key=keep)
    if only:
        sessions = sessions.filter(session_key=only)
    ended = [SessionStore().decode(data) for data in sessions.values_list("session_data", flat=True)]
    deleted, _ = sessions.delete()
    if ended:
        sessions_ended.send(sender=type(user), user=user, sessions=ended)
    return deleted
