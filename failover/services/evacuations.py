"""Evacuating a location: plan (shown first), start, advance (beat), cancel; and the return of the same pairs.

A pair is evacuated when its serving member (the one the probes last saw primary) stands in the location: its
peer becomes primary with a data sync first (nothing is lost). At most ``concurrency`` switchovers run at once;
once ``stop_after_failures`` have failed no new one starts (those running finish).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from appliances.models import FailoverRole
from portal.models import AuditAction, Role
from portal.permissions import SYSTEM, require_role
from portal.queue import enqueue_on_commit
from portal.services.audit import audit_record

from ..models import (
    MEMBERS_WITH_STATUS,
    Evacuation,
    EvacuationDirection,
    EvacuationItem,
    EvacuationItemStatus,
    EvacuationStatus,
    Operation,
    OperationKind,
    OperationStatus,
    Pair,
    PairState,
)
from .operations import operation_start, runbook_refusal

ADVANCE_TASK = "failover.advance_evacuation"
#: Who plans, starts and stops an evacuation (each switchover is an operator's role change).
EVACUATION_ROLE = Role.OPERATOR


def _healthy_backup(appliance) -> str:
    """Why ``appliance`` cannot take over ("" when it can), from its latest probe."""
    if appliance.status_reachable is not True:
        return f"{appliance.name} (the target) is not reachable ({appliance.status_error or 'no probe yet'})."
    if appliance.status_role != FailoverRole.BACKUP:
        return f"{appliance.name} (the target) is {appliance.status_role or 'of unknown role'}, not a backup."
    return ""


def _pair_refusal(pair: Pair, busy: set[int]) -> str:
    if pair.pk in busy:
        return "An operation is running on the pair."
    if pair.state == PairState.CONFLICT:
        return "The pair is in conflict."
    return runbook_refusal(pair, OperationKind.MAINTENANCE)


def _busy(pairs) -> set[int]:
    """The ids of the pairs among ``pairs`` with an operation running (one query)."""
    return set(Operation.objects.filter(pair__in=pairs, status__in=OperationStatus.active())
               .values_list("pair_id", flat=True))


def _evacuation_moves(pairs, location: str) -> tuple[list[tuple[Pair, object, object]], list[dict], list]:
    busy = _busy(pairs)
    moves, blocked = [], []
    for pair in pairs:
        members = (pair.primary, pair.backup)
        serving = [m for m in members if m.status_role == FailoverRole.PRIMARY]
        if len(serving) != 1:
            blocked.append({"pair": pair.pk, "site": pair.site_hostname,
                            "reason": "No single member is known to serve it (probe the pair first)."})
            continue
        source = serving[0]
        if source.location != location:
            continue  # served from elsewhere: nothing to evacuate
        target = pair.peer_of(source)
        reason = ((f"Both members stand in {location}." if target.location == location else "")
                  or _pair_refusal(pair, busy) or _healthy_backup(target))
        if reason:
            blocked.append({"pair": pair.pk, "site": pair.site_hostname, "reason": reason})
        else:
            moves.append((pair, source, target))
    return moves, blocked


def _return_moves(previous: Evacuation) -> tuple[list, list[dict]]:
    items = previous.items.filter(status=EvacuationItemStatus.DONE).select_related("pair", "source", "target")
    busy = _busy([item.pair for item in items])
    moves, blocked = [], []
    for item in items:
        reason = _pair_refusal(item.pair, busy) or _healthy_backup(item.source)
        if reason:
            blocked.append({"pair": item.pair_id, "site": item.pair.site_hostname, "reason": reason})
        else:
            moves.append((item.pair, item.target, item.source))
    return moves, blocked


def evacuation_plan(*, actor, organization, location: str, direction: str = EvacuationDirection.EVACUATE,
                    concurrency: int = 5, stop_after_failures: int = 3) -> Evacuation:
    """Plan only: which pairs move, in which order, and which cannot (with why). Nothing is touched yet."""
    require_role(actor, organization.pk, EVACUATION_ROLE)
    location = (location or "").strip()
    if not location:
        raise ValidationError({"location": "Name the location."})
    if not 1 <= int(concurrency) <= 50:
        raise ValidationError({"concurrency": "Between 1 and 50 switchovers at once."})
    if not 1 <= int(stop_after_failures) <= 1000:
        raise ValidationError({"stop_after_failures": "Between 1 and 1000."})
    returning = None
    if direction == EvacuationDirection.RETURN:
        returning = (Evacuation.objects.filter(organization=organization, location=location,
                                               direction=EvacuationDirection.EVACUATE)
                     .exclude(status=EvacuationStatus.PLANNED).order_by("-created_at").first())
        if returning is None:
            raise ValidationError({"location": f"No evacuation of {location} to return from."})
        moves, blocked = _return_moves(returning)
    elif direction == EvacuationDirection.EVACUATE:
        pairs = list(Pair.objects.filter(organization=organization)
                     .filter(Q(primary__location=location) | Q(backup__location=location))
                     .select_related(*MEMBERS_WITH_STATUS).order_by("site_hostname", "pk"))
        moves, blocked = _evacuation_moves(pairs, location)
    else:
        raise ValidationError({"direction": "Evacuate or return."})
    with transaction.atomic():
        evacuation = Evacuation.objects.create(
            organization=organization, location=location, direction=direction, concurrency=concurrency,
            stop_after_failures=stop_after_failures, returning=returning, blocked=blocked,
            created_by=actor if getattr(actor, "pk", None) else None)
        EvacuationItem.objects.bulk_create(
            EvacuationItem(organization=organization, evacuation=evacuation, pair=pair, position=index, source=source,
                           target=target) for index, (pair, source, target) in enumerate(moves))
        audit_record(actor=actor, organization=organization, action=AuditAction.CREATE, obj=evacuation,
                     verb="plan evacuation", summary=f"{evacuation}: {len(moves)} pairs to move, {len(blocked)} cannot")
    return evacuation


def evacuation_start(*, actor, evacuation: Evacuation) -> Evacuation:
    require_role(actor, evacuation.organization_id, EVACUATION_ROLE)
    with transaction.atomic():
        updated = Evacuation.objects.filter(pk=evacuation.pk, status=EvacuationStatus.PLANNED).update(
            status=EvacuationStatus.RUNNING, started_at=timezone.now())
        if not updated:
            raise ValidationError("Only a planned evacuation can be started.")
        audit_record(actor=actor, organization=evacuation.organization, action=AuditAction.ACTION, obj=evacuation,
                     verb="start evacuation", summary=str(evacuation))
        enqueue_on_commit(ADVANCE_TASK, evacuation.pk)
    evacuation.refresh_from_db()
    return evacuation


def evacuation_cancel(*, actor, evacuation: Evacuation) -> Evacuation:
    """No new switchover starts; the running ones finish (each is an operation with its own safe end)."""
    require_role(actor, evacuation.organization_id, EVACUATION_ROLE)
    with transaction.atomic():
        updated = Evacuation.objects.filter(
            pk=evacuation.pk, status__in=[EvacuationStatus.PLANNED, EvacuationStatus.RUNNING]).update(
            status=EvacuationStatus.CANCELLED, finished_at=timezone.now(),
            stop_reason=f"Cancelled by {getattr(actor, 'username', 'the system')}.")
        if not updated:
            raise ValidationError("This evacuation is over already.")
        evacuation.items.filter(status=EvacuationItemStatus.QUEUED).update(
            status=EvacuationItemStatus.NOT_STARTED, detail="Cancelled before it started.")
        audit_record(actor=actor, organization=evacuation.organization, action=AuditAction.ACTION, obj=evacuation,
                     verb="cancel evacuation", summary=str(evacuation))
    evacuation.refresh_from_db()
    return evacuation


_FINISHED = {OperationStatus.SUCCEEDED: EvacuationItemStatus.DONE, OperationStatus.FAILED: EvacuationItemStatus.FAILED,
             OperationStatus.CANCELLED: EvacuationItemStatus.FAILED}


def _collect(evacuation: Evacuation) -> None:
    running = evacuation.items.filter(status=EvacuationItemStatus.RUNNING).select_related("operation")
    for item in running:
        operation = item.operation
        if operation is not None and not operation.is_active:
            EvacuationItem.objects.filter(pk=item.pk).update(
                status=_FINISHED[operation.status], detail=(operation.error or "Moved.")[:500])


def evacuation_advance(*, evacuation_id: int) -> dict:
    """One step of a running evacuation (beat, and after each start): record finished switchovers, stop past the
    failure threshold, start queued ones up to the concurrency, finish when nothing is left. Serialised per
    evacuation by a row lock, so two ticks never start the same pair twice."""
    with transaction.atomic():
        evacuation = Evacuation.objects.select_for_update(skip_locked=True).filter(
            pk=evacuation_id, status=EvacuationStatus.RUNNING).first()
        if evacuation is None:
            return {"status": "not running"}
        _collect(evacuation)
        items = evacuation.items
        failed = items.filter(status=EvacuationItemStatus.FAILED).count()
        running = items.filter(status=EvacuationItemStatus.RUNNING).count()
        if failed >= evacuation.stop_after_failures:
            items.filter(status=EvacuationItemStatus.QUEUED).update(
                status=EvacuationItemStatus.NOT_STARTED, detail="Not started: the evacuation stopped.")
            if running == 0:
                evacuation.status, evacuation.finished_at = EvacuationStatus.STOPPED, timezone.now()
                evacuation.stop_reason = f"{failed} switchovers failed (threshold {evacuation.stop_after_failures})."
                evacuation.save(update_fields=["status", "finished_at", "stop_reason", "updated_at"])
            return {"status": evacuation.status, "failed": failed, "running": running}
        actor = evacuation.created_by or SYSTEM
        for item in items.filter(status=EvacuationItemStatus.QUEUED).select_related("pair", "target")[
                :max(0, evacuation.concurrency - running)]:
            try:
                operation = operation_start(
                    actor=actor, pair=item.pair, kind=OperationKind.BECOME_PRIMARY, appliance=item.target,
                    params={"sync_first": True}, reason=f"{evacuation}", idempotency_key=f"evacuation-{item.pk}")
            except ValidationError as exc:
                EvacuationItem.objects.filter(pk=item.pk).update(status=EvacuationItemStatus.FAILED,
                                                                 detail=" ".join(exc.messages)[:500])
                continue
            EvacuationItem.objects.filter(pk=item.pk).update(status=EvacuationItemStatus.RUNNING, operation=operation)
            running += 1
        if running == 0 and not items.filter(status=EvacuationItemStatus.QUEUED).exists():
            evacuation.status, evacuation.finished_at = EvacuationStatus.DONE, timezone.now()
            evacuation.save(update_fields=["status", "finished_at", "updated_at"])
        return {"status": evacuation.status, "failed": failed, "running": running}


def evacuations_advance() -> int:
    ids = list(Evacuation.objects.filter(status=EvacuationStatus.RUNNING).values_list("pk", flat=True)[:100])
    for evacuation_id in ids:
        evacuation_advance(evacuation_id=evacuation_id)
    return len(ids)
