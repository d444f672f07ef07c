"""Periodic work of the portal, loaded into beat by portal.celery (plain data, no Django imports)."""

SCHEDULE: dict = {
    # Catches alert emails whose task message was lost or whose retries ran out while the mail server was down.
    # The entry keeps the name it had under failover: beat's database updates the row of that name in place.
    "failover-deliver-pending-alerts": {"task": "portal.deliver_pending_alerts", "schedule": 300.0,
                                        "options": {"expires": 300}},
}
