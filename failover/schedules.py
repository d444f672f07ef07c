"""Periodic work of the failover app, loaded into beat by portal.celery (plain data, no Django imports)."""

#: Seconds between probe dispatcher ticks: the granularity of every probe schedule (probing/dispatch.py rounds
#: due times to the nearest tick, so an appliance's interval may be as short as one tick).
PROBE_DISPATCH_SECONDS = 5.0

SCHEDULE: dict = {
    # Short interval: the dispatcher only claims what is due (per-appliance probe_interval); an idle tick is
    # one indexed query. "expires" drops ticks that queued up behind a busy probes queue.
    "failover-probe-dispatch": {"task": "failover.probe_dispatch", "schedule": PROBE_DISPATCH_SECONDS,
                                "options": {"expires": PROBE_DISPATCH_SECONDS}},
    "failover-watch-pairs": {"task": "failover.watch_pairs", "schedule": 30.0, "options": {"expires": 30}},
    # Operations whose worker died stop heartbeating; this hands them back to a worker (resumed, not redone).
    "failover-resume-stale-operations": {"task": "failover.resume_stale_operations", "schedule": 60.0,
                                         "options": {"expires": 60}},
    "failover-schedule-syncs": {"task": "failover.schedule_syncs", "schedule": 60.0, "options": {"expires": 60}},
    # Cheap when nothing is down (one indexed query); often enough that failover follows the timeout closely.
    # What each appliance serves on the wire: parity between pair members, expiry and drift alerts. Certificates
    # change rarely; a quarter of an hour bounds how long drift goes unnoticed at two TLS handshakes per appliance.
    # (The entry keeps its name from the certificates app: beat's database updates that row in place.)
    "certificates-refresh-served": {"task": "certificates.refresh_served", "schedule": 15 * 60.0,
                                    "options": {"expires": 15 * 60}},
    # Failover drills: each schedule is due every N days but starts only inside a window covering its pair.
    "failover-start-due-drills": {"task": "failover.start_due_drills", "schedule": 300.0, "options": {"expires": 300}},
    # Running evacuations: collect finished switchovers and start the next ones (one locked row per evacuation).
    "failover-advance-evacuations": {"task": "failover.advance_evacuations", "schedule": 5.0, "options": {"expires": 5}},
    # The stored best-practice findings follow each change as it is written; this reconciles what no write
    # reports (a sync leaving the 7-day window, a raw update) and fills the table after the upgrade that adds it.
    # A few queries per 500 pairs and writes only where a finding changed.
    "failover-sweep-advice": {"task": "failover.sweep_advice", "schedule": 600.0, "options": {"expires": 600}},
    "failover-evaluate-auto-failover": {"task": "failover.evaluate_auto_failover", "schedule": 10.0,
                                        "options": {"expires": 10}},
}
