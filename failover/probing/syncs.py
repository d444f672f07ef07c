"""The sync history as the probes see it: every new ``last_data_sync_time`` a member reports is a sync that
finished, recorded once per pair (both members report the same sync). This is how syncs of vendor-only pairs,
which run on the appliance's own schedule, reach the history; an operation's own record of the same sync wins."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q

from ..models import Pair, SyncRecord, SyncResult, SyncTrigger
from ..sync_history import same_sync_records, sync_succeeded


def record_observed_syncs(observations: list[tuple[int, datetime, str]]) -> int:
    """``observations``: (appliance id, reported end time, reported status) for members whose sync time moved.
    Returns how many sync records were created. One query for the pairs, one per new sync."""
    if not observations:
        return 0
    ids = {appliance_id for appliance_id, _, _ in observations}
    pairs = {}
    for pair in Pair.objects.filter(Q(primary_id__in=ids) | Q(backup_id__in=ids)).only(
            "pk", "organization_id", "primary_id", "backup_id"):
        pairs[pair.primary_id] = pairs[pair.backup_id] = pair
    created, seen = 0, set()
    for appliance_id, finished, status in observations:
        pair = pairs.get(appliance_id)
        if pair is None or (pair.pk, finished) in seen:
            continue
        seen.add((pair.pk, finished))
        if same_sync_records(pair.pk, finished).exists():
            continue
        SyncRecord.objects.create(
            organization_id=pair.organization_id, pair=pair, trigger=SyncTrigger.OBSERVED, started_at=finished,
            finished_at=finished, start_reported=False, message=status[:300],
            result=SyncResult.SUCCEEDED if sync_succeeded(status) else SyncResult.FAILED,
        )
        created += 1
    return created
