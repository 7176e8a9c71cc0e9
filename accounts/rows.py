"""A row inserted as ``Model.save(force_insert=True)`` inserts it, by SQL written here.

``Model.save`` builds its ``INSERT`` through the ORM's query and compiler objects on every call,
and for a small row that cost more CPU than the statement (issue 17: the "locked out" event of a
refused attempt, 0.5 ms of which the statement was a third). ``insert`` writes the same columns
with the same values (each field's ``pre_save`` and ``get_db_prep_save`` run as in ``save``) and
sets the new primary key on the instance. It sends no ``pre_save`` or ``post_save`` signal and
saves no parent model: only for models nothing listens to and that inherit from none.
"""

from django.db import connections, router, transaction
from django.db.models import Field, Model


def insert_values(obj: Model, connection) -> list[tuple[Field, object]]:
    """The fields an ``INSERT`` of ``obj`` writes, each with its value as the database takes it:
    all but an automatic primary key not set yet and generated fields, as ``Model.save``."""
    opts = obj._meta
    return [(field, field.get_db_prep_save(field.pre_save(obj, True), connection))
            for field in opts.local_concrete_fields
            if not ((field is opts.auto_field and obj.pk is None) or getattr(field, "generated", False))]


def insert(obj: Model, using: str | None = None) -> Model:
    """Insert ``obj`` (unsaved) in one statement, and set its new primary key on it."""
    opts = obj._meta
    if opts.parents:
        raise TypeError(f"{opts.label} inherits from another model: save it with save()")
    using = using or router.db_for_write(type(obj), instance=obj)
    connection = connections[using]
    quote = connection.ops.quote_name
    pairs = insert_values(obj, connection)
    returning = obj.pk is None and opts.auto_field is not None
    # Names from the model, every value a parameter.
    sql = (f"INSERT INTO {quote(opts.db_table)} ({', '.join(quote(f.column) for f, _ in pairs)}) "  # noqa: S608
           f"VALUES ({', '.join(['%s'] * len(pairs))})")
    returned = returning and connection.features.can_return_columns_from_insert
    if returned:
        sql += f" RETURNING {quote(opts.pk.column)}"
    with transaction.mark_for_rollback_on_error(using), connection.cursor() as cursor:
        cursor.execute(sql, [value for _, value in pairs])
        if returning:
            pk = (cursor.fetchone()[0] if returned
                  else connection.ops.last_insert_id(cursor, opts.db_table, opts.pk.column))
            obj.pk = opts.pk.to_python(pk)
    obj._state.adding, obj._state.db = False, using
    return obj
