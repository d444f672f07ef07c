"""What makes two sync reports the same sync, and a sync status a success: shared by the operations that record
syncs and by the probes that observe them (no import of either, so neither imports the other)."""

from __future__ import annotations

from datetime import datetime, timedelta

from .models import SyncRecord

#: Two reports of a sync whose end times are this close are the same sync (epoch seconds vs. a parsed timestamp).
SAME_SYNC = timedelta(seconds=1)


def same_sync_records(pair_id: int, finished: datetime):
    """Records of the sync that ended at ``finished`` (whoever recorded it: an operation or the probes)."""
    return SyncRecord.objects.filter(pair_id=pair_id, finished_at__gte=finished - SAME_SYNC,
                                     finished_at__lte=finished + SAME_SYNC)


#: How an appliance's free-text ``last_data_sync_status`` reads when the sync succeeded ("Success" in the vendor's
#: answers; other wordings seen in the field). The one rule: the pair state, the outage panel, the sync history
#: and the sync operations all read a status the same way.
SUCCESS_PREFIXES = ("success", "succeeded", "completed", "ok")


def sync_succeeded(status: str | None) -> bool:
    return (status or "").strip().lower().startswith(SUCCESS_PREFIXES)
