"""Periodic work of the portal, loaded into beat by portal.celery (plain data, no Django imports)."""

SCHEDULE: dict = {
    # The notification sweeper: group waits, repeats, escalations and resolved messages fall due with time
    # alone, and it picks up deliveries whose task message was lost or whose retry backoff is over.
    # The entry keeps the name it had under failover: beat's database updates the row of that name in place.
    "failover-deliver-pending-alerts": {"task": "portal.deliver_pending_alerts", "schedule": 10.0,
                                        "options": {"expires": 10}},
}
