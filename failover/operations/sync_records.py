"""Reading an appliance's sync-history entries and closing the portal's sync record: shared by every operation
that ends with, or starts with, a data sync (sync now, role changes with "sync first")."""

from __future__ import annotations

from datetime import UTC, datetime

from django.utils import timezone

from ..models import Pair, SyncRecord, SyncResult
from .engine import Context


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


def sync_succeeded(status: str | None) -> bool:
    return (status or "").lower().startswith("success")


def finish_sync_record(context: Context, *, started, finished, size, status: str) -> None:
    """Close the operation's sync record; a successful sync is the pair's last one (and the next is due per the
    interval again)."""
    ok = sync_succeeded(status)
    fields = {"finished_at": finished or timezone.now(), "bytes_transferred": size, "message": status[:300],
              "result": SyncResult.SUCCEEDED if ok else SyncResult.FAILED}
    if started is not None:
        fields["started_at"] = started
    SyncRecord.objects.filter(pk=context.state["sync_record_id"]).update(**fields)
    if ok:
        Pair.objects.filter(pk=context.pair.pk).update(last_sync_at=fields["finished_at"], next_sync_at=None)
