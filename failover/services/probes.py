"""Probe scheduling: which appliances are due, in which batches, and running one batch.

The tasks in ``failover/tasks.py`` only call these; the benchmark calls ``probe_batch_run`` directly, so the
Celery path and the direct path run the same code.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings

from ..probing import SweepReport, claim_due_appliances, probe_appliances
from ..probing.dispatch import claim_lease_seconds, claim_lease_until

__all__ = ["claim_lease_seconds", "claim_lease_until", "probe_batch_run", "probe_batches_claim"]



def probe_batches_claim(*, now: datetime, batch_size: int | None = None, limit: int | None = None) -> list[list[int]]:
    """Claim every due appliance (up to ``limit``) and cut the ids into batches for the probe workers."""
    batch_size = batch_size or settings.PROBE_BATCH_SIZE
    ids = claim_due_appliances(now=now, limit=limit or settings.PROBE_DISPATCH_LIMIT)
    return [ids[i : i + batch_size] for i in range(0, len(ids), batch_size)]


def probe_batch_run(*, appliance_ids: list[int], concurrency: int | None = None,
                    lease_until: datetime | None = None) -> SweepReport:
    return probe_appliances(appliance_ids, concurrency=concurrency, lease_until=lease_until)
