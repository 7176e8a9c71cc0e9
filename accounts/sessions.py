"""``SESSION_ENGINE``: database sessions that know their user, so a user's sessions can be ended.

The database holds every session (``accounts.models.UserSession``): it is the record, and a user's
sessions end with one indexed delete. With Redis configured (``SESSION_CACHE_ENABLED``), the
sessions of the sign-in flow, which belong to nobody yet, are also kept in the cache and read from
there (Django's ``cached_db``): the flow's pages read no session row. A signed-in session is always
read from the database, so deleting its row ends it at once, whatever the cache holds or missed.

Each save is one statement: a new session is inserted without first asking whether its random key
exists (a clash fails the insert, and ``create`` tries another key), and a rotated key
(``cycle_key``: sign-in, step-up) is written by updating the row's key in place, rather than by
inserting a copy and deleting the old row. Rows written with the save (``save_with_insert``,
``save_with_update``, ``save_with_delete``, ``save_with_decrement``: a sign-in's audit event,
``last_login``, the failures it forgets or gives back) join that one statement on
PostgreSQL (data-modifying ``WITH`` clauses, each written only if the session's row was), and a
transaction with the save elsewhere: either way they commit with the session, or not at all.
"""

import logging
import secrets
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError, UpdateError
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.core.cache import caches
from django.db import (
    DatabaseError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    connections,
    router,
    transaction,
)
from django.db.models import F, Model
from django.dispatch import Signal

from . import session_life
from .rows import insert, insert_values

logger = logging.getLogger(__name__)

# Sent with ``user`` and ``sessions`` (each one's data, decoded) after they are ended: what was
# signed in with them (applications' tokens) ends too.
sessions_ended = Signal()

CACHE_KEY_PREFIX = "accounts.sessions."

KEY_LENGTH = 32
_KEY_SPACE = len(VALID_KEY_CHARS) ** KEY_LENGTH


def new_key() -> str:
    """``get_random_string(32, VALID_KEY_CHARS)``, each of the 36**32 keys as likely, from one
    draw of the system's randomness: ``get_random_string`` asks for it once a character (a sign-in
    makes three keys; 50 microseconds each, a tenth of that this way)."""
    number = secrets.randbelow(_KEY_SPACE)
    characters = []
    for _ in range(KEY_LENGTH):
        number, digit = divmod(number, len(VALID_KEY_CHARS))
        characters.append(VALID_KEY_CHARS[digit])
    return "".join(characters)


def cache_enabled() -> bool:
    return bool(getattr(settings, "SESSION_CACHE_ENABLED", False))


def _cacheable(data: dict) -> bool:
    """Only a session nobody is signed in with (the sign-in flow's) is served from the cache."""
    return SESSION_KEY not in data


class SessionStore(DatabaseSessionStore):
    """Django's database store, plus writes that commit with the session (``save_with``), the
    flow's sessions cached, and one statement per save."""

    def __init__(self, session_key: str | None = None) -> None:
        super().__init__(session_key)
        self._with_save: list[Callable[[], object]] = []
        self._inserts: list[Model] = []  # rows to insert with the next save
        self._updates: list[tuple[type[Model], object, dict]] = []  # (model, pk, values) likewise
        self._deletes: list[tuple[type[Model], dict]] = []  # (model, {column's field: value}) likewise
        self._decrements: list[tuple[type[Model], str, list]] = []  # (model, field, pks) likewise
        self._replaces: str | None = None  # the key this session had before cycle_key()
        self._cache = caches[settings.SESSION_CACHE_ALIAS] if cache_enabled() else None

    def save_with(self, write: Callable[[], object]) -> None:
        """Run ``write`` in the transaction of this session's next save: both commit, or neither.

        The sign-in's audit event goes here (accounts.receivers): SessionMiddleware saves the
        session after the view, and a sign-in whose session was not saved never reached the
        browser, so it must not be in the audit trail either (SECURITY.md 38).
        """
        self._with_save.append(write)
        self.modified = True

    def save_with_insert(self, obj: Model) -> None:
        """Insert ``obj`` (unsaved) with this session's next save: both commit, or neither. On
        PostgreSQL in the same statement as the session (``save_with`` needs a transaction)."""
        self._inserts.append(obj)
        self.modified = True

    def set_fresh(self, key: str, value) -> None:
        """Set ``key`` in the data as stored now, not as this request read it: another request of
        the same browser may have saved the session since (the username's Next, while the username
        page's passkey script asks for its challenge), and this request's save must not undo it."""
        if self.session_key is not None and hasattr(self, "_session_cache"):
            del self._session_cache  # read again on the next access
        self[key] = value

    def save_with_update(self, model: type[Model], pk, **values) -> None:
        """Set ``values`` on the row ``pk`` of ``model`` with this session's next save, as
        ``save_with_insert`` inserts."""
        self._updates.append((model, pk, values))
        self.modified = True

    def save_with_delete(self, model: type[Model], **equal) -> None:
        """Delete the rows of ``model`` whose fields equal ``equal`` with this session's next save,
        as ``save_with_insert`` inserts: the sign-in forgets the username's failures only if it
        commits, and on PostgreSQL in the same statement."""
        self._deletes.append((model, equal))
        self.modified = True

    def save_with_decrement(self, model: type[Model], field: str, pks: list) -> bool:
        """One less in ``field`` of each row ``pk`` of ``model`` where it is above 0, in the
        statement of this session's next save (a right password's attempt given back, issue 17).

        Only where it costs nothing: on PostgreSQL, which writes it in the save's one statement.
        Elsewhere it would make the save a transaction of its own, dearer than the one ``UPDATE``
        it saves: False, and nothing taken, and the caller writes it now. The caller must know
        the session will be saved (it holds data; the response is no server error): if not, the
        rows keep their count."""
        if connections[router.db_for_write(self.model)].vendor != "postgresql" or self.is_empty():
            return False
        self._decrements.append((model, field, list(pks)))
        self.modified = True
        return True

    # --- reading --------------------------------------------------------------------------------

    def _cache_get(self, key: str | None):
        if self._cache is None or not key:
            return None
        try:
            return self._cache.get(CACHE_KEY_PREFIX + key)
        except Exception:  # an invalid key, Redis down: read the database
            return None

    def _cache_saved(self, key: str, data: dict, replaced: str | None) -> None:
        """The cache after a save: ``data`` under ``key`` if it may be served from there, else
        nothing under it; nothing under the key it replaced. The deletes are one command."""
        if self._cache is None:
            return
        stale = [CACHE_KEY_PREFIX + old for old in (replaced,) if old]
        try:
            if _cacheable(data):
                self._cache.set(CACHE_KEY_PREFIX + key, data, self.get_expiry_age())
            else:
                stale.append(CACHE_KEY_PREFIX + key)
            if stale:
                self._cache.delete_many(stale)
        except Exception:
            logger.warning("The session cache could not be written", exc_info=True)

    def _cache_delete(self, key: str | None) -> None:
        if self._cache is None or not key:
            return
        try:
            self._cache.delete(CACHE_KEY_PREFIX + key)
        except Exception:
            logger.warning("The session cache could not be written", exc_info=True)

    def load(self) -> dict:
        data = self._cache_get(self._session_key)
        if isinstance(data, dict) and _cacheable(data):
            return data
        return super().load()

    # --- writing --------------------------------------------------------------------------------

    def _get_new_session_key(self) -> str:
        """A random key, not checked first: 32 characters of 36 do not clash, and if one ever did,
        the insert would fail and ``create`` would draw another."""
        return new_key()

    def cycle_key(self) -> None:
        """A new key for the same data. For a session nobody is signed in with yet (the sign-in
        flow's: the password proven, and ``login()``), written by the next save, which updates the
        row's key; a signed-in session's row takes its new key at once, as in Django, since what
        follows may end the user's other sessions by key (a password change keeps this one)."""
        if self.session_key is None or not _cacheable(self._session):
            return super().cycle_key()
        data = self._session
        if self._replaces is None and self.session_key is not None:
            self._replaces = self.session_key
        self._session_key = self._get_new_session_key()
        self._session_cache = data
        self.modified = True

    def create(self) -> None:
        self._replaces = None
        super().create()

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None:
            return self.create()  # which saves again, with a new key
        using = router.db_for_write(self.model)
        replaced = self._replaces
        try:
            if self._with_save or self._inserts or self._updates or self._deletes or self._decrements:
                if self._with_save or not self._write_in_one_statement(must_create, using):
                    with transaction.atomic(using=using):
                        self._write(must_create, using)
                        self._write_rows(using)
                        for write in self._with_save:
                            write()
            else:
                self._write(must_create, using)
        except UpdateError as error:
            # Django reads any database error on update as "the session was deleted meanwhile" and
            # answers 400; a lost connection is the database being down: the 503 page says so.
            if isinstance(error.__context__, OperationalError | InterfaceError):
                raise error.__context__ from None
            raise
        self._with_save.clear()
        self._inserts.clear()
        self._updates.clear()
        self._deletes.clear()
        self._decrements.clear()
        self._replaces = None
        self._cache_saved(self.session_key, self._session, replaced)

    def _write(self, must_create: bool, using: str) -> None:
        """One INSERT or UPDATE; after ``cycle_key``, an UPDATE of the old row to the new key.

        The statements ``Model.save`` and ``QuerySet.update`` make, written here: building them
        through the ORM cost a step of the sign-in more CPU than running them (issue 17)."""
        connection = connections[using]
        columns, values = self._row(self._get_session(no_load=must_create), connection)
        table = connection.ops.quote_name(self.model._meta.db_table)
        if not must_create:
            key = self._replaces if self._replaces is not None else self.session_key
            try:
                with connection.cursor() as cursor:
                    cursor.execute(self._update_sql(columns, connection), [*values, key])
                    if cursor.rowcount:
                        return
            except DatabaseError as error:
                raise UpdateError from error
            if self._replaces is None:
                raise UpdateError  # the row is gone (the session was ended meanwhile)
            must_create = True  # the old row was never saved, or is gone: insert the new one
        try:
            # Requests run in autocommit: a key that clashed (``create`` then draws another one)
            # leaves no transaction broken.
            with connection.cursor() as cursor:
                # Names from the model, every value a parameter.
                cursor.execute(f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608
                               f"VALUES ({', '.join(['%s'] * len(values))})", values)
        except IntegrityError:
            raise CreateError from None

    def _row(self, data: dict, connection) -> tuple[list[str], list]:
        """The session's row for ``data``: its quoted columns, and their values as the database
        takes them."""
        obj = self.create_model_instance(data)
        fields = self.model._meta.concrete_fields
        return ([connection.ops.quote_name(field.column) for field in fields],
                [field.get_db_prep_save(getattr(obj, field.attname), connection) for field in fields])

    def _update_sql(self, columns: list[str], connection) -> str:
        """``UPDATE`` of every column of the row under a key (the last parameter)."""
        quote = connection.ops.quote_name
        sets = ", ".join(f"{column} = %s" for column in columns)
        # Names from the model, every value a parameter.
        return (f"UPDATE {quote(self.model._meta.db_table)} SET {sets} "  # noqa: S608
                f"WHERE {quote(self.model._meta.pk.column)} = %s")

    def _write_rows(self, using: str) -> None:
        """The rows of ``save_with_update``, ``save_with_decrement``, ``save_with_delete`` and
        ``save_with_insert``, one statement each (inside the save's transaction), in that order."""
        for model, pk, values in self._updates:
            model._default_manager.using(using).filter(pk=pk).update(**values)
        for model, field, pks in self._decrements:
            model._default_manager.using(using).filter(pk__in=pks, **{f"{field}__gt": 0}).update(
                **{field: F(field) - 1})
        for model, equal in self._deletes:
            rows = model._default_manager.using(using).filter(**equal)
            rows._raw_delete(using)  # one DELETE, as the statement on PostgreSQL
        for obj in self._inserts:
            insert(obj, using)

    def _write_in_one_statement(self, must_create: bool, using: str) -> bool:
        """On PostgreSQL, an existing session's row updated together with the rows to write with it,
        in one statement (so atomic without a transaction): ``WITH saved AS (UPDATE session ...
        RETURNING 1), u0 AS (UPDATE ... AND EXISTS (SELECT 1 FROM saved)), d0 AS (DELETE ... AND
        EXISTS (SELECT 1 FROM saved)), i0 AS (INSERT ... SELECT ... FROM saved) SELECT COUNT(*) FROM
        saved``. False, having written nothing, when it cannot (another database, a new session, or
        no row under the session's key: the transaction then does what ``_write`` does; a row
        both decremented and deleted, which one statement would write twice)."""
        connection = connections[using]
        if connection.vendor != "postgresql" or must_create:
            return False
        if {model for model, *_ in self._decrements} & {model for model, _ in self._deletes}:
            return False  # PostgreSQL would apply only one of two changes to a row, either one
        quote = connection.ops.quote_name
        columns, values = self._row(self._get_session(), connection)
        key = self._replaces if self._replaces is not None else self.session_key
        clauses = [f"saved AS ({self._update_sql(columns, connection)} RETURNING 1)"]
        params = [*values, key]
        for n, (model, pk, update) in enumerate(self._updates):
            opts = model._meta
            sets = _column_equals(opts, update, connection, params, saving=True)
            # Names from the model, every value a parameter.
            clauses.append(f"u{n} AS (UPDATE {quote(opts.db_table)} SET {', '.join(sets)} "  # noqa: S608
                           f"WHERE {quote(opts.pk.column)} = %s AND EXISTS (SELECT 1 FROM saved))")
            params.append(opts.pk.get_db_prep_value(pk, connection))
        for n, (model, field, pks) in enumerate(self._decrements):
            opts = model._meta
            column = quote(opts.get_field(field).column)
            params.extend(opts.pk.get_db_prep_value(pk, connection) for pk in pks)
            clauses.append(f"c{n} AS (UPDATE {quote(opts.db_table)} SET {column} = {column} - 1 "  # noqa: S608
                           f"WHERE {column} > 0 AND {quote(opts.pk.column)} "
                           f"IN ({', '.join(['%s'] * len(pks))}) AND EXISTS (SELECT 1 FROM saved))")
        for n, (model, equal) in enumerate(self._deletes):
            opts = model._meta
            conditions = _column_equals(opts, equal, connection, params, saving=False)
            clauses.append(f"d{n} AS (DELETE FROM {quote(opts.db_table)} "  # noqa: S608
                           f"WHERE {' AND '.join(conditions)} AND EXISTS (SELECT 1 FROM saved))")
        for n, obj in enumerate(self._inserts):
            opts = obj._meta
            columns, values = [], []
            for field, value in insert_values(obj, connection):
                # Typed, as INSERT ... VALUES would type them; text for character columns, so
                # that a value too long fails as it would there instead of being cut.
                db_type = field.db_type(connection)
                db_type = "text" if db_type.startswith("varchar") else db_type
                columns.append(quote(field.column))
                values.append(f"CAST(%s AS {db_type})")
                params.append(value)
            clauses.append(f"i{n} AS (INSERT INTO {quote(opts.db_table)} ({', '.join(columns)}) "  # noqa: S608
                           f"SELECT {', '.join(values)} FROM saved)")
        # Names from the models, every value a parameter.
        sql = f"WITH {', '.join(clauses)} SELECT COUNT(*) FROM saved"  # noqa: S608
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                (saved,) = cursor.fetchone()
        except DatabaseError as error:
            raise UpdateError from error
        return bool(saved)

    def delete(self, session_key: str | None = None) -> None:
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        self._cache_delete(session_key)
        rows = self.model.objects.filter(session_key=session_key)
        rows._raw_delete(rows.db)  # one DELETE: nothing refers to a session row
        if self._replaces is not None and session_key == self.session_key:
            self._delete_replaced()

    def _delete_replaced(self) -> None:
        replaced, self._replaces = self._replaces, None
        self._cache_delete(replaced)
        rows = self.model.objects.filter(session_key=replaced)
        rows._raw_delete(rows.db)

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


def _column_equals(opts, values: dict, connection, params: list, *, saving: bool) -> list[str]:
    """``"column" = %s`` for each field named in ``values``, its value appended to ``params`` as
    the database takes it (as saved, or as compared)."""
    parts = []
    for name, value in values.items():
        field = opts.get_field(name)
        parts.append(f"{connection.ops.quote_name(field.column)} = %s")
        params.append(field.get_db_prep_save(value, connection) if saving
                      else field.get_db_prep_value(value, connection))
    return parts


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
