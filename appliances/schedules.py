"""Periodic work of the appliances app, loaded into beat by portal.celery (plain data, no Django imports)."""

SCHEDULE: dict = {
    # Finds the primaries whose backup is due (per organisation interval, default daily) and queues them.
    "appliances.scheduled_backups": {"task": "appliances.scheduled_backups", "schedule": 15 * 60.0},
    # Retention: keep the last N and one per week for M weeks (per organisation).
    "appliances.prune_backups": {"task": "appliances.prune_backups", "schedule": 6 * 3600.0},
}
