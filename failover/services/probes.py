"""Probe scheduling: which appliances are due, in which batches, and running one batch.

The tasks in ``failover/tasks.py`` only call these; the benchmark calls ``probe_batch_run`` directly, so the
Celery path and the direct path run the same code.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings

from ..probing import SweepReport, claim_due_appliances, probe_appliances
from ..probing.dispatch import claim_lease_seconds, claim_lease_until
from ..probing.locations import claim_for_locations, location_queue, probe_location_batch, split_by_location

__all__ = ["claim_lease_seconds", "claim_lease_until", "location_queue", "probe_batch_run", "probe_batches_claim",
           "probe_batches_by_location", "probe_location_batch_run"]


def probe_batches_claim(*, now: datetime, batch_size: int | None = None, limit: int | None = None) -> list[list[int]]:
    """Claim every due appliance (up to ``limit``) and cut the ids into batches for the probe workers."""
    batch_size = batch_size or settings.PROBE_BATCH_SIZE
    ids = claim_due_appliances(now=now, limit=limit or settings.PROBE_DISPATCH_LIMIT)
    return [ids[i : i + batch_size] for i in range(0, len(ids), batch_size)]


def probe_batch_run(*, appliance_ids: list[int], concurrency: int | None = None,
                    lease_until: datetime | None = None) -> SweepReport:
    return probe_appliances(appliance_ids, concurrency=concurrency, lease_until=lease_until)


def probe_batches_by_location(batches: list[list[int]], *, now: datetime, batch_size: int | None = None
                              ) -> tuple[list[list[int]], dict[str, list[list[int]]]]:
    """Claimed batches split into (batches for the plain ``probes`` path, {location: batches}): an appliance with
    several locations goes to each of them that is not still busy with it (``probing/locations.py``,
    ``claim_for_locations``)."""
    batch_size = batch_size or settings.PROBE_BATCH_SIZE
    plain, by_location = split_by_location([pk for ids in batches for pk in ids])
    by_location = claim_for_locations(by_location, now=now, lease_until=claim_lease_until(now=now))

    def cut(ids):
        return [ids[i : i + batch_size] for i in range(0, len(ids), batch_size)]

    return cut(plain), {location: cut(ids) for location, ids in by_location.items()}


def probe_location_batch_run(*, appliance_ids: list[int], location: str) -> SweepReport:
    return probe_location_batch(appliance_ids, location=location)
