"""Look-ups every sign-in makes, built and compiled by the ORM once per process and database.

For the sign-in's small indexed look-ups, building a queryset (its filters, joins and
annotations) and compiling it to SQL cost the ORM more CPU than the query's round trip (issue 17):
the verified domain of a username took 0.75 ms to build and 0.1 ms to run. A ``Precompiled``
look-up builds its queryset once, with a placeholder where the value goes, has each database's
compiler turn it into SQL once, and then hands that compiler's SQL, with the request's value in the
placeholder's place, to every later run of the same queryset. Everything after the SQL is the
ORM's own: the same rows, instances, related objects and converters as the queryset gives (the
converters worked out once per connection too).

The value goes to the database as given (no field's ``get_prep_value`` runs on it): callers pass
values in the form the column holds (a canonical username, a lower-case domain, an id).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from weakref import WeakKeyDictionary

from django.db.models import QuerySet


@dataclass(frozen=True)
class _Compiled:
    """A queryset compiled for one database: its SQL and parameters (the value at ``index``), and
    what the compiler worked out to make instances of the rows."""

    sql: str
    params: tuple
    index: int
    select: list
    klass_info: dict | None
    annotation_col_map: dict | None
    col_count: int
    has_extra_select: bool
    # The row converters the compiler works out for the select, per connection (they come from
    # the connection's operations): worked out each time, they cost as much as the query.
    converters: WeakKeyDictionary = field(default_factory=WeakKeyDictionary)


class Precompiled:
    """``build(placeholder)``, built once; calling the instance with ``value`` gives
    ``list(build(value))``."""

    def __init__(self, build: Callable[[Any], QuerySet], placeholder: Any) -> None:
        self._build, self._placeholder = build, placeholder
        self._queryset: QuerySet | None = None
        self._compiled: dict[str, _Compiled] = {}

    def __call__(self, value: Any) -> list:
        if self._queryset is None:
            self._queryset = self._build(self._placeholder)  # never evaluated itself
        rows = self._queryset.all()
        query = rows.query
        compiled = self._compiled.get(rows.db)
        if compiled is None:
            compiled = self._compiled.setdefault(rows.db, self._compile(rows.db))
        params = list(compiled.params)
        params[compiled.index] = value

        def get_compiler(using=None, connection=None, elide_empty=True):
            compiler = type(query).get_compiler(query, using, connection, elide_empty)
            compiler.select, compiler.klass_info = compiled.select, compiled.klass_info
            compiler.annotation_col_map, compiler.col_count = compiled.annotation_col_map, compiled.col_count
            compiler.has_extra_select = compiled.has_extra_select
            compiler.as_sql = lambda *args, **kwargs: (compiled.sql, params)
            compiler.get_converters = lambda expressions: converters_of(compiler, expressions)
            return compiler

        def converters_of(compiler, expressions) -> dict:
            known = compiled.converters.get(compiler.connection)
            if known is None or known[0] != len(expressions):
                known = (len(expressions), type(compiler).get_converters(compiler, expressions))
                compiled.converters[compiler.connection] = known
            return known[1]

        query.get_compiler = get_compiler
        return list(rows)

    def _compile(self, using: str) -> _Compiled:
        compiler = self._queryset.query.get_compiler(using)
        sql, params = compiler.as_sql()
        # Exactly one parameter is the placeholder, or the queryset is not one this can run.
        [index] = [n for n, value in enumerate(params) if value == self._placeholder]
        return _Compiled(sql, tuple(params), index, compiler.select, compiler.klass_info,
                         compiler.annotation_col_map, compiler.col_count, compiler.has_extra_select)
