"""Periodic work of the failover app, loaded into beat by portal.celery (plain data, no Django imports)."""

SCHEDULE: dict = {}
