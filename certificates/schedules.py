"""Periodic work of the certificates app, loaded into beat by portal.celery (plain data, no Django imports)."""

SCHEDULE: dict = {
    # What each appliance serves on the wire: parity between pair members, expiry and drift alerts. Certificates
    # change rarely; a quarter of an hour bounds how long drift goes unnoticed at two TLS handshakes per appliance.
    "certificates-refresh-served": {"task": "certificates.refresh_served", "schedule": 15 * 60.0,
                                    "options": {"expires": 15 * 60}},
    # What each appliance holds (its certificate list): hourly, one API call per appliance.
    "certificates-sync-inventories": {"task": "certificates.sync_inventories", "schedule": 3600.0,
                                      "options": {"expires": 3600}},
}
