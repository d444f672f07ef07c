"""Maintenance windows, a runbook's change log, and failover drills (schedules and the beat task's start).
A pair declared "in maintenance" by an operator is services/maintenance.py (the pair state machine)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from portal.models import AuditAction, Role
from portal.permissions import SYSTEM, require_role
from portal.services.alerts import alert_raise
from portal.services.audit import audit_record

from ..alerts import AlertKind
from ..maintenance_selectors import MAX_WINDOW_MINUTES, pair_window_for_drill
from ..models import (
    ChangeLogEntry,
    DrillSchedule,
    MaintenanceWindow,
    Operation,
    OperationKind,
    OperationStatus,
    Pair,
    PairState,
)
from ..pair_state import derive_pair_state
from ..probing.pairs import refresh_pair_states

# -- windows ---------------------------------------------------------------------------------------------------

#: Scheduling and closing a window, and logging a runbook's /login changes, is an operator's day-to-day work.
WINDOW_ROLE = Role.OPERATOR


def _refresh_covered(*windows: MaintenanceWindow) -> None:
    """Recompute at once the state of the pairs the windows cover (maintenance while one is open, the evidence
    once none is), in one refresh for all of them; a window that starts or ends on its own is seen at the members'
    next probe."""
    ids = {window.appliance_id for window in windows if window.appliance_id}
    pair_ids = [window.pair_id for window in windows if not window.appliance_id]
    if pair_ids:
        for members in Pair.objects.filter(pk__in=pair_ids).values_list("primary_id", "backup_id"):
            ids.update(members)
    refresh_pair_states(appliance_ids=sorted(ids), now=timezone.now())


def window_schedule(*, actor, pair: Pair | None = None, appliance=None, starts_at: datetime, ends_at: datetime,
                    reason: str = "") -> MaintenanceWindow:
    """A window a person schedules, for a pair or one appliance (callers pass rows found through ``for_user``)."""
    target = pair or appliance
    if target is None:
        raise ValidationError({"pair": "Choose the pair or the appliance the window covers."})
    if pair is not None and appliance is not None:
        raise ValidationError({"appliance": "A window covers a pair or one appliance, not both."})
    require_role(actor, target.organization_id, WINDOW_ROLE)
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": "The window must end after it starts."})
    if ends_at <= timezone.now():
        raise ValidationError({"ends_at": "The window would already be over."})
    if ends_at - starts_at > timedelta(minutes=MAX_WINDOW_MINUTES):
        raise ValidationError({"ends_at": "A window lasts at most 7 days: schedule another one after it."})
    with transaction.atomic():
        window = MaintenanceWindow.objects.create(
            organization_id=target.organization_id, pair=pair, appliance=appliance, starts_at=starts_at,
            ends_at=ends_at, reason=reason[:300], created_by=actor,
        )
        audit_record(actor=actor, organization=target.organization, action=AuditAction.CREATE, obj=window,
                     verb="schedule maintenance window", summary=str(window))
        _refresh_covered(window)
    return window


def window_close(*, actor, window: MaintenanceWindow) -> MaintenanceWindow:
    require_role(actor, window.organization_id, WINDOW_ROLE)
    if window.closed_at is not None or window.ends_at <= timezone.now():
        raise ValidationError("This window is already over.")
    with transaction.atomic():
        window.closed_at = timezone.now()
        window.save(update_fields=["closed_at", "updated_at"])
        audit_record(actor=actor, organization=window.organization, action=AuditAction.UPDATE, obj=window,
                     verb="close maintenance window", summary=str(window))
        _refresh_covered(window)
    return window


def window_open_for_runbook(*, operation: Operation, appliance, minutes: int) -> MaintenanceWindow:
    """The window a runbook opens for the appliance it takes out of service: one per runbook and appliance, so a
    resumed step does not open a second."""
    existing = MaintenanceWindow.objects.filter(operation=operation, appliance=appliance).first()
    if existing is not None:
        return existing
    now = timezone.now()
    with transaction.atomic():
        window = MaintenanceWindow.objects.create(
            organization_id=operation.organization_id, appliance=appliance, operation=operation, starts_at=now,
            ends_at=now + timedelta(minutes=minutes), reason=f"{operation.get_kind_display()} #{operation.pk}",
            created_by=operation.requested_by,
        )
        audit_record(actor=SYSTEM, organization=operation.organization, action=AuditAction.CREATE, obj=window,
                     verb="open maintenance window", summary=f"{window} (opened by {operation})")
        _refresh_covered(window)
    return window


def windows_close_for_operation(*, operation: Operation) -> int:
    now = timezone.now()
    with transaction.atomic():
        windows = list(MaintenanceWindow.objects.filter(operation=operation, closed_at__isnull=True, ends_at__gt=now))
        MaintenanceWindow.objects.filter(pk__in=[w.pk for w in windows]).update(closed_at=now, updated_at=now)
        _refresh_covered(*windows)
    return len(windows)


# -- change log ------------------------------------------------------------------------------------------------


def change_log_add(*, actor, operation: Operation, text: str) -> ChangeLogEntry:
    require_role(actor, operation.organization_id, WINDOW_ROLE)
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "Describe the change (what, where in /login, the new value)."})
    if len(text) > 1000:
        raise ValidationError({"text": "At most 1000 characters per entry."})
    if operation.kind not in OperationKind.runbooks() or not operation.is_active:
        raise ValidationError("Changes are logged on a runbook that is still in progress.")
    with transaction.atomic():
        entry = ChangeLogEntry.objects.create(organization_id=operation.organization_id, operation=operation,
                                              text=text, author=actor)
        audit_record(actor=actor, organization=operation.organization, action=AuditAction.CREATE, obj=operation,
                     verb="log /login change", summary=text[:300])
    return entry


# -- drills ----------------------------------------------------------------------------------------------------


def drill_schedule_set(*, actor, pair: Pair, enabled: bool, every_days: int) -> DrillSchedule:
    require_role(actor, pair.organization_id, Role.ADMIN)
    if not 1 <= int(every_days) <= 366:
        raise ValidationError({"every_days": "Between 1 and 366 days."})
    with transaction.atomic():
        schedule, _created = DrillSchedule.objects.update_or_create(
            pair=pair, defaults={"organization_id": pair.organization_id, "enabled": enabled,
                                 "every_days": every_days})
        audit_record(actor=actor, organization=pair.organization, action=AuditAction.UPDATE, obj=pair,
                     verb="set drill schedule", summary=str(schedule),
                     changes={"enabled": enabled, "every_days": every_days})
    return schedule


#: An alert about the pair this recent counts as open for a drill (alerts have no "resolved" state here).
DRILL_ALERT_QUIET = timedelta(hours=1)


def drill_refusal(pair: Pair, *, now: datetime) -> str:
    """Why a drill may not start on the pair now ("" when it may)."""
    if pair_window_for_drill(pair, now=now) is None:
        return "No maintenance window covering the pair is open: drills run only inside one."
    # The window the drill needs puts the pair in maintenance: what counts is the evidence beneath it.
    beneath = derive_pair_state(pair=pair, primary=pair.primary, backup=pair.backup, now=now)
    if beneath.state != PairState.HEALTHY:
        return f"The pair is {PairState(beneath.state).label.lower()}: drills run only on a healthy pair."
    if pair.alerts.filter(created_at__gte=now - DRILL_ALERT_QUIET).exists():
        return "An alert about the pair was raised in the last hour."
    if Operation.objects.filter(pair=pair, status__in=OperationStatus.active()).exists():
        return "Another operation is running on the pair."
    return ""


def drills_start_due(*, now: datetime | None = None) -> list[int]:
    """Beat: start the drills that are due, inside a window and with no open alert; record why others wait."""
    # Imported here: services.operations imports the operations package, whose runbook planners import this
    # module (windows); at module level that would be a circle.
    from .operations import operation_start

    now = now or timezone.now()
    started = []
    for schedule in DrillSchedule.objects.filter(enabled=True).select_related("pair", "pair__organization")[:1000]:
        if schedule.last_started_at and now - schedule.last_started_at < timedelta(days=schedule.every_days):
            continue
        pair = schedule.pair
        refusal = drill_refusal(pair, now=now)
        if not refusal:
            try:
                operation = operation_start(actor=SYSTEM, pair=pair, kind=OperationKind.DRILL, reason="Scheduled drill")
            except ValidationError as exc:
                refusal = " ".join(exc.messages)
            else:
                started.append(operation.pk)
                DrillSchedule.objects.filter(pk=schedule.pk).update(last_started_at=now, last_skip_reason="")
                continue
        DrillSchedule.objects.filter(pk=schedule.pk).update(last_skip_reason=refusal[:300])
    return started


def drill_failed_alert(operation: Operation, roles: str) -> None:
    """A failed drill alerts, saying where it stopped and the pair's roles as read."""
    pair = operation.pair
    alert_raise(
        organization=operation.organization, kind=AlertKind.DRILL_FAILED, dedup_key=f"drill:{operation.pk}",
        scope=pair, subject=f"{pair.site_hostname}: failover drill failed", throttle=None,
        body=(f"The failover drill #{operation.pk} on {pair.site_hostname} stopped: {operation.error}\n\n"
              f"Roles now: {roles}\n\nThe drill does nothing more. Each member is either in its normal role or the "
              "backup serves after a sync-first swap (no data lost); see docs/runbooks.md, “Failover drills”, for "
              "what to do from each step."),
    )
