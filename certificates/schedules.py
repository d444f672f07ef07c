"""Periodic work of the certificates app, loaded into beat by portal.celery (plain data, no Django imports)."""

SCHEDULE: dict = {
    # What each appliance holds (its certificate list): hourly, one API call per appliance.
    "certificates-sync-inventories": {"task": "certificates.sync_inventories", "schedule": 3600.0,
                                      "options": {"expires": 3600}},
}
