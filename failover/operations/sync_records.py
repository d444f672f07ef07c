"""Reading an appliance's sync-history entries and closing the portal's sync record: shared by every operation
that ends with, or starts with, a data sync (sync now, role changes with "sync first")."""

from __future__ import annotations

from datetime import UTC, datetime

from django.utils import timezone

from ..models import Pair, SyncRecord, SyncResult, SyncTrigger
from ..services.advice import advice_refresh
from ..sync_history import same_sync_records, sync_succeeded
from .engine import Context

__all__ = ["finish_sync_record", "parse_bytes", "parse_time", "same_sync_records", "sync_succeeded"]

def parse_time(text) -> datetime | None:
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_bytes(text) -> int | None:
    return int(text) if str(text or "").isdigit() else None


def finish_sync_record(context: Context, *, started, finished, size, status: str, result: str | None = None,
                       message: str = "", start_reported: bool = True) -> None:
    """Close the operation's sync record; a successful sync is the pair's last one (and the next is due per the
    interval again). ``result``/``message`` override what ``status`` (the appliance's words) says;
    ``start_reported`` False when the appliance told only when the sync ended."""
    ok = sync_succeeded(status) and result is None
    fields = {"finished_at": finished or timezone.now(), "bytes_transferred": size, "message": (message or status)[:300],
              "result": result or (SyncResult.SUCCEEDED if ok else SyncResult.FAILED), "start_reported": start_reported}
    if started is not None:
        fields["started_at"] = started
    record_id = context.state["sync_record_id"]
    SyncRecord.objects.filter(pk=record_id).update(**fields)
    if finished is not None:
        # The probes may have seen this sync end first: the operation's record (with its start and size) stands.
        same_sync_records(context.pair.pk, finished).filter(trigger=SyncTrigger.OBSERVED).exclude(pk=record_id).delete()
    if ok:
        Pair.objects.filter(pk=context.pair.pk).update(last_sync_at=fields["finished_at"], next_sync_at=None)
    # The slowest recent sync feeds the advice (a sync slower than its interval).
    advice_refresh(pair_ids=[context.pair.pk])
