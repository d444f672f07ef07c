"""Periodic work of the certificates app, loaded into beat by portal.celery (plain data, no Django imports)."""

SCHEDULE: dict = {}
