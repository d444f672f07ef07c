"""Periodic work of the appliances app, loaded into beat by portal.celery (plain data, no Django imports)."""

SCHEDULE: dict = {}
