"""RPO and RTO history: the data at risk over time (from observed syncs) and the time to recover of every role
change (from operations), per pair for its charts and fleet-wide with the worst exposure first."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from .models import Operation, OperationKind, OperationStatus, Pair, SyncRecord, SyncResult

HISTORY_DAYS = 90

#: Operations that change roles without recording each switch's RTO themselves: their whole run is the RTO.
WHOLE_RUN_RTO_KINDS = (OperationKind.BECOME_PRIMARY, OperationKind.BECOME_BACKUP, OperationKind.AUTO_FAILOVER)


def _ts(value: datetime) -> float:
    return round(value.timestamp(), 3)


def _sync_age_series(finished: list[datetime], now: datetime) -> list[list[float]]:
    times, ages = [], []
    for previous, current in zip(finished, finished[1:], strict=False):
        times.append(_ts(current))
        ages.append(round((current - previous).total_seconds(), 1))
    if finished:
        times.append(_ts(now))
        ages.append(round((now - finished[-1]).total_seconds(), 1))
    return [times, ages]


def _successful_syncs(pair_ids, now: datetime) -> dict[int, list[datetime]]:
    by_pair: dict[int, list[datetime]] = {pair_id: [] for pair_id in pair_ids}
    rows = (SyncRecord.objects.filter(pair_id__in=pair_ids, result=SyncResult.SUCCEEDED, finished_at__isnull=False,
                                      finished_at__gte=now - timedelta(days=HISTORY_DAYS))
            .order_by("finished_at").values_list("pair_id", "finished_at"))
    for pair_id, finished in rows:
        by_pair[pair_id].append(finished)
    return by_pair


def pair_sync_age_series(pair: Pair, *, now: datetime | None = None) -> list[list[float]]:
    """[[time...], [seconds...]]: just before each successful sync, how old the previous one was (the data that
    was at risk then), and the age now. A sawtooth's peaks: the RPO actually lived."""
    now = now or timezone.now()
    return _sync_age_series(_successful_syncs([pair.pk], now)[pair.pk], now)


def role_change_rtos(operations: QuerySet[Operation]) -> list[dict]:
    """Every measured role change: runbooks and drills record each switch (request to traffic verified); a plain
    role change or automatic failover counts from its request to its end."""
    rows = []
    for operation in operations.filter(status=OperationStatus.SUCCEEDED).order_by("created_at"):
        changes = (operation.result or {}).get("role_changes")
        if changes:
            for change in changes:
                rows.append({"at": change.get("verified_at"), "seconds": change.get("rto_seconds"),
                             "operation": operation, "what": change.get("change")})
        elif operation.kind in WHOLE_RUN_RTO_KINDS and operation.finished_at:
            rows.append({"at": operation.finished_at.isoformat(), "operation": operation, "what": operation.kind,
                         "seconds": round((operation.finished_at - operation.created_at).total_seconds(), 3)})
    return [row for row in rows if row["at"] and row["seconds"] is not None]


def _recent_operations(now: datetime) -> QuerySet[Operation]:
    return Operation.objects.filter(created_at__gte=now - timedelta(days=HISTORY_DAYS),
                                    kind__in=[*WHOLE_RUN_RTO_KINDS, *OperationKind.runbooks()])


def pair_rto_series(pair: Pair, *, now: datetime | None = None) -> list[list[float]]:
    now = now or timezone.now()
    rows = role_change_rtos(_recent_operations(now).filter(pair=pair))
    return [[_ts(datetime.fromisoformat(row["at"])) for row in rows], [row["seconds"] for row in rows]]


def pair_charts(pair: Pair) -> dict:
    return {"sync_age": pair_sync_age_series(pair), "rto": pair_rto_series(pair)}


def fleet_exposure(pairs: QuerySet[Pair], *, now: datetime | None = None) -> list[dict]:
    """Per pair: the data at risk now (age of the last sync), the worst sync age and the worst RTO of the last
    90 days; the pairs most exposed first (no sync at all first of all). Three queries whatever the fleet size."""
    now = now or timezone.now()
    pairs = list(pairs.select_related("organization").order_by("pk")[:5000])
    syncs = _successful_syncs([pair.pk for pair in pairs], now)
    worst_rto: dict[int, float] = {}
    for row in role_change_rtos(_recent_operations(now).filter(pair__in=pairs)):
        pair_id = row["operation"].pair_id
        worst_rto[pair_id] = max(worst_rto.get(pair_id, 0), row["seconds"])
    rows = []
    for pair in pairs:
        ages = _sync_age_series(syncs[pair.pk], now)[1]
        rows.append({"pair": pair,
                     "sync_age": (now - pair.last_sync_at).total_seconds() if pair.last_sync_at else None,
                     "worst_sync_age": max(ages, default=None), "worst_rto": worst_rto.get(pair.pk)})
    rows.sort(key=lambda row: (row["sync_age"] is not None, -(row["sync_age"] or 0), -(row["worst_rto"] or 0)))
    return rows
