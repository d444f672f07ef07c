"""Database expressions that behave the same on PostgreSQL (production, tests) and SQLite (the embedded demo), and
giving the connection back around waits that need none."""

from collections.abc import Callable
from typing import Any

from django.contrib.postgres.indexes import PostgresIndex
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import connection
from django.db.migrations import AddIndex
from django.db.models import DurationField, Func


def without_database(wait: Callable[[], Any]) -> Any:
    """Run ``wait`` (seconds that need mostly no database: probes or a knock waiting out their timeouts) with this
    thread's database connection given back before and after; the next query reconnects. So a worker holds no
    connection while it waits, and one dropped meanwhile (a database restart, a pooler's idle cut, bench/chaos.py
    terminating backends) costs nothing instead of failing the next query; that includes a connection the wait
    itself opened for a quick read before its network part. Inside a transaction (a caller's atomic block) the
    connection stays, since closing it would end the transaction."""
    if not connection.in_atomic_block:
        connection.close()
    try:
        return wait()
    finally:
        if not connection.in_atomic_block:
            connection.close()


class Seconds(Func):
    """An integer column of seconds as a duration, so ``now - Seconds("timeout")`` works in a filter.

    Multiplying by ``timedelta(seconds=1)`` is what one would write, but SQLite's backend cannot multiply a
    duration; each database gets its own spelling instead.
    """

    output_field = DurationField()
    arity = 1
    template = "make_interval(secs => %(expressions)s)"

    def as_sqlite(self, compiler, connection, **extra_context):
        # SQLite stores durations as integer microseconds.
        return self.as_sql(compiler, connection, template="(%(expressions)s * 1000000)", **extra_context)


class AddIndexConcurrentlyWherePossible(AddIndexConcurrently):
    """``CREATE INDEX CONCURRENTLY`` on PostgreSQL, so adding an index to a live table blocks no write (the
    migration must be ``atomic = False``). On the embedded SQLite database: a plain index, and none for the
    PostgreSQL-only index types (GIN), whose queries SQLite answers by scanning its small tables anyway."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        elif not isinstance(self.index, PostgresIndex):
            AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
        elif not isinstance(self.index, PostgresIndex):
            AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)
