"""``SESSION_ENGINE``: database sessions that know their user, so a user's sessions can be ended."""

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.dispatch import Signal

from . import session_life

# Sent with ``user`` and ``sessions`` (each one's data, decoded) after they are ended: what was
# signed in with them (applications' tokens) ends too.
sessions_ended = Signal()


class SessionStore(DatabaseSessionStore):
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


def end_sessions(user, *, keep: str | None = None) -> int:
    """Delete the user's sessions but ``keep`` (a session key): those browsers are signed out at once."""
    from .models import UserSession

    sessions = UserSession.objects.filter(user_id=user.pk)
    if keep:
        sessions = sessions.exclude(session_key=keep)
    ended = [SessionStore().decode(data) for data in sessions.values_list("session_data", flat=True)]
    deleted, _ = sessions.delete()
    if ended:
        sessions_ended.send(sender=type(user), user=user, sessions=ended)
    return deleted
