"""Trigram indexes for the Connect Portal's "contains" searches, on PostgreSQL only.

Django's ``icontains`` is ``UPPER(col::text) LIKE UPPER('%word%')`` on PostgreSQL: a GIN trigram
index on that expression serves it, so searching 100,000 users stays a few milliseconds. SQLite
(trials, tests) has no such index and scans, which is fine at its sizes.

``fastupdate = off``: without it, rows added in bulk (an import, ``generate_scale_data``) wait in the
index's pending list, which every search then reads from end to end until autovacuum merges it
(measured: 330 ms instead of 4 ms a search with 100,000 users). Users are added rarely; searches
are frequent.
"""

from django.db import migrations

INDEXES = [
    ("accounts_user", "username"),
    ("accounts_user", "first_name"),
    ("accounts_user", "last_name"),
    ("accounts_user", "email"),
    ("accounts_mitelaccount", "name"),
    ("accounts_mitelaccount", "partner_label"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for table, column in INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {table}_{column}_trgm ON {table} "
            f"USING gin (UPPER({column}::text) gin_trgm_ops) WITH (fastupdate = off)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, column in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {table}_{column}_trgm")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_support_staff")]

    operations = [migrations.RunPython(create, drop)]
