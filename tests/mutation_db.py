"""pytest plugin for `make mutation` only (scripts/mutation_run.py loads it): migrate once, copy after.

Every mutant is a pytest run of its own, and on SQLite in memory each run migrated a fresh test
database: most of a mutant's time. The first run here migrates as usual and keeps a copy of the
result in MUTATION_DB_TEMPLATE; later runs load that copy (SQLite's backup API) instead. The
database is the same, rows of the data migrations included; PostgreSQL and file databases are
left to Django.
"""

import os
import sqlite3
from pathlib import Path

import django.test.utils

_setup_databases = django.test.utils.setup_databases


def setup_databases(*args, **kwargs):
    from django.conf import settings
    from django.db import connections

    template = os.environ.get("MUTATION_DB_TEMPLATE")
    connection = connections["default"]
    test_name = connection.creation._get_test_db_name()
    if (not template or list(settings.DATABASES) != ["default"] or connection.vendor != "sqlite"
            or not connection.creation.is_in_memory_db(test_name)):
        return _setup_databases(*args, **kwargs)
    template = Path(template)
    if not template.exists():
        result = _setup_databases(*args, **kwargs)
        partial = template.with_suffix(f".{os.getpid()}")
        with sqlite3.connect(partial) as copy:
            connection.connection.backup(copy)
        copy.close()
        partial.replace(template)
        return result
    old_name = connection.settings_dict["NAME"]
    connection.close()
    settings.DATABASES["default"]["NAME"] = connection.settings_dict["NAME"] = test_name
    connection.ensure_connection()
    source = sqlite3.connect(template)
    try:
        source.backup(connection.connection)
    finally:
        source.close()
    return [(connection, old_name, True)]


django.test.utils.setup_databases = setup_databases
