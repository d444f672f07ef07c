"""Bulk write of many rows' columns in one statement.

Django's ``bulk_update`` builds ``SET col = CASE WHEN id=1 THEN .. WHEN id=2 ..`` per column: the Python side
resolves one expression per row and column (measured ~3 ms of CPU per appliance row, more than the probe
itself) and PostgreSQL evaluates an n-branch CASE per row. On PostgreSQL this sends one array per column
instead: ``UPDATE t SET col = v.col FROM unnest(%s::bigint[], %s::...[]) AS v(id, col, ..) WHERE t.id = v.id``.
The statement text stays short and constant (no per-row placeholders to parse), the cost is linear. Other
databases keep ``bulk_update``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from django.db import connections, router

BATCH_SIZE = 5000


def bulk_update_rows(model, objects: Sequence, fields: Sequence[str], *, batch_size: int = BATCH_SIZE) -> int:
    """Write ``fields`` of ``objects`` (model instances with a pk). Returns the number of rows updated."""
    if not objects:
        return 0
    using = router.db_for_write(model)
    connection = connections[using]
    if connection.vendor != "postgresql":
        return model.objects.using(using).bulk_update(objects, fields, batch_size=batch_size)
    meta = model._meta
    pk = meta.pk
    columns = [pk, *(meta.get_field(name) for name in fields)]
    quote = connection.ops.quote_name
    # JSON travels as text and is cast per value: psycopg has no jsonb[] dumper for plain Python values.
    is_json = [field.get_internal_type() == "JSONField" for field in columns]
    array_types = ["text[]" if json_column else f"{field.db_type(connection)}[]"
                   for field, json_column in zip(columns, is_json, strict=True)]
    assignments = ", ".join(
        f"{quote(field.column)} = v.{quote(field.column)}{'::jsonb' if json_column else ''}"
        for field, json_column in zip(columns[1:], is_json[1:], strict=True)
    )
    # Only quoted identifiers and column types from the model's metadata are interpolated; values are parameters.
    sql = (f"UPDATE {quote(meta.db_table)} AS t SET {assignments} "  # noqa: S608
           f"FROM unnest({', '.join(f'%s::{t}' for t in array_types)}) "
           f"AS v({', '.join(quote(field.column) for field in columns)}) "
           f"WHERE t.{quote(pk.column)} = v.{quote(pk.column)}")
    updated = 0
    with connection.cursor() as cursor:
        for start in range(0, len(objects), batch_size):
            chunk = objects[start : start + batch_size]
            params = []
            for field, json_column in zip(columns, is_json, strict=True):
                values = [getattr(obj, field.attname) for obj in chunk]
                if json_column:
                    params.append([None if v is None else json.dumps(v, cls=field.encoder) for v in values])
                else:
                    params.append([field.get_db_prep_save(v, connection) for v in values])
            cursor.execute(sql, params)
            updated += cursor.rowcount
    return updated
