"""The benchmarks' scratch database: dropped and recreated, every table made from the models (no migrations).
Imported by a benchmark after ``django.setup()``."""

from django.apps import apps
from django.db import connection


def create_schema() -> None:
    import psycopg  # noqa: PLC0415 (psycopg is Django's driver here; only this helper talks to it directly)

    name = connection.settings_dict["NAME"]
    admin = {**connection.get_connection_params(), "dbname": "postgres", "autocommit": True}
    connection.close()
    with psycopg.connect(**admin) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    with connection.schema_editor() as editor:
        for model in apps.get_models():
            if model._meta.managed and not model._meta.proxy:
                editor.create_model(model)
