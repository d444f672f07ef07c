"""Periodic work of the appliances app, loaded into beat by portal.celery (plain data, no Django imports)."""

SCHEDULE: dict = {
    # Finds the primaries whose backup is due (per organisation interval, default daily) and queues them.
    "appliances.scheduled_backups": {"task": "appliances.scheduled_backups", "schedule": 15 * 60.0},
    # Retention: keep the last N and one per week for M weeks (per organisation).
    "appliances.prune_backups": {"task": "appliances.prune_backups", "schedule": 6 * 3600.0},
    # Capability profiles (vendor API only, or which extension actions) of appliances never read or read a day ago.
    "appliances.refresh_capabilities": {"task": "appliances.refresh_capabilities", "schedule": 3600.0},
}
