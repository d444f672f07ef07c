"""Sync now: the backup pulls the primary's data. Its steps are reused by the operations that end with a sync."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from appliances.models import FailoverRole

from ..models import BackupSettings, OperationKind, SyncRecord, SyncResult, SyncTrigger
from .engine import Context, Skipped, Step, StepFailed, Waiting
from .registry import planner
from .roles import describe, read_roles
from .sync_records import finish_sync_record, parse_bytes, parse_time, same_sync_records, sync_succeeded


def sync_timeout() -> float:
    return float(settings.FAILOVER_SYNC_TIMEOUT)


def _trigger(context: Context) -> str:
    if context.operation.kind != OperationKind.SYNC:
        return SyncTrigger.OPERATION
    return context.params.get("trigger", SyncTrigger.MANUAL)


def _target(context: Context):
    return context.appliance(context.state["sync_target"])


def _source(context: Context):
    return context.appliance(context.state["sync_source"])


def import_history(context: Context, history: list[dict]) -> int:
    """Record syncs the appliance ran by itself (automatic syncs) that the portal has not seen yet."""
    pair = context.pair
    latest = SyncRecord.objects.filter(pair=pair).exclude(result=SyncResult.RUNNING).order_by("-started_at").first()
    known_after = latest.started_at if latest else None
    created = 0
    for entry in reversed(history):  # oldest first
        started, finished = parse_time(entry.get("started")), parse_time(entry.get("finished"))
        if started is None or finished is None or (known_after is not None and started <= known_after):
            continue
        if SyncRecord.objects.filter(pair=pair, started_at=started).exists():
            continue
        seen = same_sync_records(pair.pk, finished).filter(trigger=SyncTrigger.OBSERVED, start_reported=False)
        if seen.update(started_at=started, start_reported=True, bytes_transferred=parse_bytes(entry.get("bytes"))):
            continue  # the probes saw it end; the appliance's history adds its start and size
        SyncRecord.objects.create(
            organization_id=pair.organization_id, pair=pair, trigger=SyncTrigger.OBSERVED, started_at=started,
            finished_at=finished, bytes_transferred=parse_bytes(entry.get("bytes")),
            result=SyncResult.SUCCEEDED if sync_succeeded(entry.get("status")) else SyncResult.FAILED,
            message=str(entry.get("status") or "")[:300],
        )
        created += 1
    return created


# -- step: which member pulls from which ---------------------------------------------------------------------

def find_roles(context: Context) -> str:
    readings = read_roles(context)
    primaries = [r for r in readings if r.role == FailoverRole.PRIMARY]
    backups = [r for r in readings if r.role == FailoverRole.BACKUP]
    if len(primaries) != 1 or len(backups) != 1:
        hint = " Fix the conflict first." if len(primaries) == 2 or len(backups) == 2 else ""
        raise StepFailed(f"A data sync needs one primary and one backup; now {describe(readings)}.{hint}")
    context.remember(sync_source=primaries[0].appliance_id, sync_target=backups[0].appliance_id)
    return f"{backups[0].name} (backup) will pull the data of {primaries[0].name} (primary)."


# -- step: start the sync ----------------------------------------------------------------------------------

def _record_start(context: Context) -> None:
    if context.state.get("sync_record_id"):
        return
    pair = context.pair
    record = SyncRecord.objects.create(
        organization_id=pair.organization_id, pair=pair, operation=context.operation, trigger=_trigger(context),
        started_at=timezone.now(), result=SyncResult.RUNNING,
    )
    context.remember(sync_record_id=record.pk)


def _recently_synced(context: Context, status) -> datetime | None:
    """For scheduled syncs: the appliance's own automatic sync may already have run within the interval."""
    settings_row = BackupSettings.objects.filter(appliance_id=context.state["sync_target"]).first()
    interval = settings_row.sync_interval if settings_row else 0
    last = status.last_data_sync_at
    if interval and last and sync_succeeded(status.last_data_sync_status) and timezone.now() - last < timedelta(
        seconds=interval
    ):
        return last
    return None


def start_sync(context: Context):
    backup = _target(context)
    if context.params.get("trigger") == SyncTrigger.SCHEDULE and not context.supports(backup, "x_sync_now"):
        # Automatic syncs are the appliance's own job; the probes record them. A schedule never waits for a person.
        context.remember(sync_skipped=True)
        return Skipped(f"{backup.name} offers the vendor API only: its automatic syncs run by themselves and the "
                       "probes record them.")
    if context.guided(backup, "x_sync_now"):
        health = context.client(backup).check_health()
        context.remember(sync_guided=True, sync_baseline_at=_iso(health.last_data_sync_at))
        return Waiting(
            f"Sign in to /login on {backup.name} ({backup.management_host}), open Management > Failover and click "
            "“Sync Now”. When its status shows the sync finished, come back here and click “Verify”."
        )
    client = context.client(backup)
    status = client.get_sync_status()
    if _trigger(context) != SyncTrigger.OPERATION:
        import_history(context, status.history)
    context.remember(sync_baseline_count=len(status.history), sync_baseline_at=_iso(status.last_data_sync_at))
    if status.sync_in_progress:
        if context.params.get("adopt_running"):
            _record_start(context)
            return f"{backup.name} is already syncing on its own; following that sync."
        raise StepFailed(
            f"A data sync is already running on {backup.name}; a second one is refused until it finishes."
        )
    if context.params.get("trigger") == SyncTrigger.SCHEDULE and (last := _recently_synced(context, status)):
        context.remember(sync_skipped=True)
        return Skipped(f"{backup.name} synced by itself at {last:%Y-%m-%d %H:%M:%S} UTC, within its interval.")
    client.sync_now()
    _record_start(context)
    return f"{backup.name} started pulling the data of {_source(context).name}."


def start_sync_recheck(context: Context) -> str | None:
    if context.state.get("sync_guided") or "sync_baseline_count" not in context.state:
        return None
    status = context.client(_target(context)).get_sync_status()
    if status.sync_in_progress or len(status.history) > context.state["sync_baseline_count"]:
        _record_start(context)
        return "The sync had already been started."
    return None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _guided_sync_done(context: Context) -> str | None:
    health = context.client(_target(context)).check_health()
    baseline = parse_time(context.state.get("sync_baseline_at"))
    if health.last_data_sync_at and (baseline is None or health.last_data_sync_at > baseline):
        _record_start(context)
        finish_sync_record(context, started=None, finished=health.last_data_sync_at, size=None,
                           status=health.last_data_sync_status or "", start_reported=False)
        return f"{_target(context).name} reports a sync at {health.last_data_sync_at:%H:%M:%S}: " \
               f"{health.last_data_sync_status}."
    return None


# -- step: wait for it -------------------------------------------------------------------------------------

def wait_sync(context: Context):
    if context.state.get("sync_skipped"):
        return Skipped("No sync needed.")
    if context.state.get("sync_guided"):
        return "Verified when the operator confirmed."
    client = context.client(_target(context))
    baseline = context.state["sync_baseline_count"]
    began = timezone.now()

    def finished():
        status = client.get_sync_status()
        if not status.sync_in_progress and len(status.history) > baseline:
            return status.history[0]
        context.heartbeat(f"Sync running for {int((timezone.now() - began).total_seconds())} s…")
        return None

    entry = context.poll(finished, timeout=sync_timeout(), what="the data sync to finish")
    status = str(entry.get("status") or "")
    started, ended = parse_time(entry.get("started")), parse_time(entry.get("finished"))
    size = parse_bytes(entry.get("bytes"))
    finish_sync_record(context, started=started, finished=ended, size=size, status=status)
    if not sync_succeeded(status):
        raise StepFailed(f"The data sync failed: {status}")
    seconds = (ended - started).total_seconds() if started and ended else None
    size_text = f"{size / 1_000_000:.1f} MB" if size is not None else "unknown size"
    return f"Sync finished: {size_text}" + (f" in {seconds:.0f} s." if seconds is not None else ".")


def sync_steps() -> list[Step]:
    return [
        Step("find_roles", "Find which member is primary and which is backup", find_roles),
        Step("start_sync", "Start the data sync on the backup", start_sync, recheck=start_sync_recheck,
             verify=_guided_sync_done),
        Step("wait_sync", "Wait for the sync to finish and record it", wait_sync),
    ]


@planner(OperationKind.SYNC)
def plan(context: Context) -> list[Step]:
    return sync_steps()
