"""Database expressions that behave the same on PostgreSQL (production, tests) and SQLite (the embedded demo)."""

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
