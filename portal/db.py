"""Database expressions that behave the same on PostgreSQL (production, tests) and SQLite (the embedded demo)."""

from django.contrib.postgres.indexes import PostgresIndex
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db.migrations import AddIndex
from django.db.models import DurationField, Func


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
