"""Reads about maintenance windows, runbooks, drills and evacuations (tenant-scoped through ``for_user`` where a
person asks)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from appliances.selectors import appliance_unshown_fields

from .alerts import AlertKind
from .models import (
    Evacuation,
    EvacuationItem,
    EvacuationItemStatus,
    MaintenanceWindow,
    Operation,
    OperationKind,
    OperationStatus,
    Pair,
)
from .pair_state import WindowCover
from .selectors import PAIR_UNSHOWN_FIELDS

#: A runbook's own window lasts this long unless the operator asks otherwise; it ends on its own.
DEFAULT_RUNBOOK_WINDOW_MINUTES = 240
MIN_RUNBOOK_WINDOW_MINUTES = 15
MAX_WINDOW_MINUTES = 7 * 24 * 60


def runbook_window_minutes(params: dict) -> int:
    return int(params.get("window_minutes") or DEFAULT_RUNBOOK_WINDOW_MINUTES)


def window_unshown_fields() -> list[str]:
    """What a window's page never shows of what it covers (secret columns: loading them decrypts them)."""
    return [*(f"pair__{name}" for name in PAIR_UNSHOWN_FIELDS), *appliance_unshown_fields("appliance")]


def _with_covered(windows: QuerySet[MaintenanceWindow]) -> QuerySet[MaintenanceWindow]:
    """The pair or appliance a window covers, loaded for display without their secret columns."""
    return windows.select_related("pair", "appliance").defer(*window_unshown_fields())


def windows_open(*, now: datetime | None = None) -> QuerySet[MaintenanceWindow]:
    now = now or timezone.now()
    return MaintenanceWindow.objects.filter(closed_at__isnull=True, starts_at__lte=now, ends_at__gt=now)


def _covering_pair(pair: Pair) -> Q:
    return Q(pair_id=pair.pk) | Q(appliance_id__in=[pair.primary_id, pair.backup_id])


def pair_maintenance_window(pair: Pair, *, now: datetime | None = None) -> MaintenanceWindow | None:
    """The open window covering the pair or one of its members (the earliest ending first), else None."""
    return _with_covered(windows_open(now=now).filter(_covering_pair(pair))).order_by("ends_at").first()


def pair_window_until(pair: Pair, *, now: datetime | None = None) -> datetime | None:
    """When the window covering the pair ends (None: no window open); read from the annotation
    ``with_window_until`` adds, so a batch of pairs costs one query, else queried."""
    if hasattr(pair, "window_until"):
        return pair.window_until
    window = pair_maintenance_window(pair, now=now)
    return window.ends_at if window else None


def with_window_until(pairs: QuerySet[Pair], *, now: datetime | None = None) -> QuerySet[Pair]:
    covering = windows_open(now=now).filter(
        Q(pair_id=OuterRef("pk")) | Q(appliance_id=OuterRef("primary_id")) | Q(appliance_id=OuterRef("backup_id")))
    return pairs.annotate(window_until=Subquery(covering.order_by("-ends_at").values("ends_at")[:1]))


def windows_covering(pairs: list[Pair], *, now: datetime) -> dict[int, WindowCover]:
    """For each pair (members loaded) an open window covering it or a member, the one ending last (the pair is in
    maintenance until then): one query for the whole batch, what the pair state machine needs."""
    member_ids = {pk for pair in pairs for pk in (pair.primary_id, pair.backup_id)}
    windows = list(windows_open(now=now).filter(Q(pair_id__in=[p.pk for p in pairs]) | Q(appliance_id__in=member_ids))
                   .only("pair_id", "appliance_id", "starts_at", "ends_at", "reason").order_by("ends_at"))
    covering = {}
    for pair in pairs:
        for window in windows:  # ascending end: the last match wins
            if window.pair_id == pair.pk:
                covering[pair.pk] = WindowCover(pair.site_hostname, window.starts_at, window.ends_at, window.reason)
            elif window.appliance_id in (pair.primary_id, pair.backup_id):
                member = pair.primary if window.appliance_id == pair.primary_id else pair.backup
                covering[pair.pk] = WindowCover(member.name, window.starts_at, window.ends_at, window.reason)
    return covering


def pair_window_for_drill(pair: Pair, *, now: datetime | None = None) -> MaintenanceWindow | None:
    """A drill runs only inside a window that covers the whole pair (a member's window is someone's maintenance)."""
    return windows_open(now=now).filter(pair_id=pair.pk).order_by("ends_at").first()


#: Alerts a window never mutes: a drill runs inside a window on purpose, and its failure is what it is for; two
#: primaries hurt whatever the reason (an IP conflict on the shared IP, clients split between two sites), so they
#: alert in maintenance too, as the pair state puts them before maintenance.
NEVER_SILENCED = (AlertKind.DRILL_FAILED, AlertKind.CONFLICT)


def maintenance_window_silencer(alert) -> str:
    """Why an alert reaches nobody ("" when it should): an open window covers its appliance, or its pair (a pair's
    alert is covered by a window on the pair or on either member, since a member away degrades the pair).
    Registered with the portal as a silencer in ``FailoverConfig.ready``."""
    if alert.kind in NEVER_SILENCED:
        return ""
    appliance_id, pair_id = getattr(alert, "appliance_id", None), getattr(alert, "pair_id", None)
    covered = Q(pk__in=[])
    if appliance_id:
        covered |= Q(appliance_id=appliance_id) | Q(pair__primary_id=appliance_id) | Q(pair__backup_id=appliance_id)
    if pair_id:
        pair = Pair.objects.filter(pk=pair_id).only("primary_id", "backup_id").first()
        if pair is not None:
            covered |= _covering_pair(pair)
    window = _with_covered(windows_open().filter(covered, organization_id=alert.organization_id)).order_by(
        "ends_at").first()
    if window is None:
        return ""
    return f"Maintenance window of {window.covers} until {window.ends_at:%Y-%m-%d %H:%M} UTC"


def windows_for_user(user, *, organization=None) -> QuerySet[MaintenanceWindow]:
    return _with_covered(MaintenanceWindow.objects.for_user(user).in_organization(organization)).select_related(
        "operation", "created_by")


def windows_current_for_user(user, *, organization=None, now: datetime | None = None) -> list[MaintenanceWindow]:
    """Open and upcoming windows (the next 7 days): the dashboard panel."""
    now = now or timezone.now()
    return list(windows_for_user(user, organization=organization)
                .filter(closed_at__isnull=True, ends_at__gt=now, starts_at__lt=now + timedelta(days=7))
                .order_by("starts_at")[:20])


def drill_history(pairs: QuerySet[Pair] | None = None) -> QuerySet[Operation]:
    drills = Operation.objects.filter(kind=OperationKind.DRILL).exclude(status__in=OperationStatus.active())
    if pairs is not None:
        drills = drills.filter(pair__in=pairs)
    return drills.select_related("pair").order_by("-created_at")


def drill_figures(drill: Operation) -> dict:
    """A finished drill's RTO of each switch and the data at risk (sync age) at it, from its recorded state."""
    changes = (drill.result or {}).get("role_changes", [])
    return {
        "rto_seconds": [entry.get("rto_seconds") for entry in changes],
        "sync_age_seconds": [entry.get("sync_age_seconds") for entry in changes],
        "worst_rto": max((entry.get("rto_seconds") or 0 for entry in changes), default=None),
    }


def drill_rows(pairs: QuerySet[Pair], *, limit: int) -> list[tuple[Operation, dict]]:
    """The newest ``limit`` finished drills of these pairs, each with its figures (``drill_figures``)."""
    return [(drill, drill_figures(drill)) for drill in drill_history(pairs)[:limit]]


#: The fleet's drill report reads this many of the newest drills.
DRILL_REPORT_LIMIT = 500


def drill_report(pairs: QuerySet[Pair]) -> list[tuple[Operation, dict]]:
    """The fleet's drill report: the newest drills, the slowest recovery first."""
    return sorted(drill_rows(pairs, limit=DRILL_REPORT_LIMIT), key=lambda row: -(row[1]["worst_rto"] or 0))


# -- evacuations -----------------------------------------------------------------------------------------------


def evacuation_items_for_display() -> QuerySet[EvacuationItem]:
    """Evacuation items in order, with their pair, members and operation loaded without the secret columns (the
    page and the API show names and links only)."""
    return (EvacuationItem.objects.select_related("pair", "source", "target", "operation")
            .defer(*(f"pair__{name}" for name in PAIR_UNSHOWN_FIELDS), *appliance_unshown_fields("source", "target"))
            .order_by("position"))


def _progress_name(status: str) -> str:
    return f"progress_{status}"


def with_progress(evacuations: QuerySet[Evacuation]) -> QuerySet[Evacuation]:
    """Each evacuation's item count per status as annotations: a list costs one query, no item loaded."""
    return evacuations.annotate(**{_progress_name(status): Count("items", filter=Q(items__status=status))
                                   for status in EvacuationItemStatus.values})


def evacuation_progress(evacuation: Evacuation) -> dict[str, int]:
    """How many of the evacuation's pairs are in each item status: from ``with_progress``'s annotations when the
    row came through it, else counted in one query."""
    if hasattr(evacuation, _progress_name(EvacuationItemStatus.QUEUED)):
        return {status: getattr(evacuation, _progress_name(status)) for status in EvacuationItemStatus.values}
    counts = dict.fromkeys(EvacuationItemStatus.values, 0)
    counts.update(evacuation.items.order_by().values_list("status").annotate(count=Count("pk")))
    return counts
