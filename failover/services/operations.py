"""Starting, confirming, cancelling and resuming operations. The UI, REST and beat all come through here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from portal.db import Seconds
from portal.models import AuditAction, AuditEvent, Role
from portal.permissions import SYSTEM, require_role
from portal.queue import enqueue_on_commit
from portal.services.audit import audit_event, audit_record

from ..maintenance_selectors import MAX_WINDOW_MINUTES, MIN_RUNBOOK_WINDOW_MINUTES
from ..models import (
    Operation,
    OperationKind,
    OperationStatus,
    OperationStep,
    Pair,
    PairState,
    StepStatus,
    SyncTrigger,
)
from ..operations import run_operation
from ..operations.registry import supported_kinds

#: Who may start what: role changes and syncs are day-to-day work; the relationship itself is configuration.
KIND_ROLES = {
    OperationKind.SYNC: Role.OPERATOR,
    OperationKind.BECOME_PRIMARY: Role.OPERATOR,
    OperationKind.BECOME_BACKUP: Role.OPERATOR,
    OperationKind.FIX_CONFLICT: Role.OPERATOR,
    OperationKind.ESTABLISH: Role.ADMIN,
    OperationKind.BREAK: Role.ADMIN,
    # Started by the portal's policy only (POLICY_ONLY_KINDS), i.e. by SYSTEM, which holds every role.
    OperationKind.AUTO_FAILOVER: Role.ADMIN,
    # Runbooks (failover/operations/runbooks.py): maintenance is day-to-day work, a drill is a policy decision.
    OperationKind.MAINTENANCE: Role.OPERATOR,
    OperationKind.UNPLANNED_MAINTENANCE: Role.OPERATOR,
    OperationKind.DRILL: Role.ADMIN,
    OperationKind.PAIR_UPGRADE: Role.ADMIN,
}
# Started only by the portal's own policy (failover/services/autofailover.py), never by a person.
POLICY_ONLY_KINDS = (OperationKind.AUTO_FAILOVER,)

ROLE_CHANGES = (OperationKind.BECOME_PRIMARY, OperationKind.BECOME_BACKUP)
#: What a guided step (an operation waiting for a person) never holds up: these close it with a note and start.
TAKES_PRECEDENCE = (*ROLE_CHANGES, OperationKind.AUTO_FAILOVER, OperationKind.FIX_CONFLICT)


def operations_blocking(pair) -> QuerySet:
    """Active operations that make a pair busy for what takes precedence (``pair``: a Pair, an id or an
    ``OuterRef``). An operation waiting for a person is not among them: it is closed when they start."""
    waiting = OperationStep.objects.filter(operation=OuterRef("pk"), status=StepStatus.WAITING)
    return Operation.objects.filter(pair=pair, status__in=OperationStatus.active()).exclude(Exists(waiting))


def _close_guided(*, pair: Pair, kind: str, actor) -> None:
    """Close the pair's operation that waits for a person, so that ``kind`` can run now. Called with the pair row
    locked (inside operation_start's transaction); an operation a worker is running is never touched."""
    waiting = OperationStep.objects.filter(operation=OuterRef("pk"), status=StepStatus.WAITING)
    guided = (Operation.objects.select_for_update().filter(pair=pair, status__in=OperationStatus.active())
              .filter(Exists(waiting)))
    who = "the portal" if actor is SYSTEM else getattr(actor, "username", "someone")
    for operation in guided:
        note = (f"Closed without verification: {OperationKind(kind).label.lower()} (started by {who}) takes "
                "precedence over a step waiting for a person.")
        now = timezone.now()
        Operation.objects.filter(pk=operation.pk).update(status=OperationStatus.CANCELLED, finished_at=now,
                                                         error=note, updated_at=now)
        operation.steps.filter(status__in=[StepStatus.PENDING, StepStatus.WAITING]).update(
            status=StepStatus.SKIPPED, finished_at=now, detail=note)
        audit_record(actor=actor, organization=pair.organization, action=AuditAction.ACTION, obj=operation,
                     verb="close guided operation", summary=note)


RUN_OPERATION_TASK = "failover.run_operation"


def _enqueue(operation: Operation) -> None:
    # A dedicated queue when configured (tests point their own worker at one).
    queue = settings.FAILOVER_OPERATIONS_QUEUE
    enqueue_on_commit(RUN_OPERATION_TASK, operation.pk, **({"queue": queue} if queue else {}))


def operation_run(*, operation_id: int) -> str:
    """Run (or resume) an operation's steps: what the ``failover.run_operation`` task does. Returns the outcome
    (``"locked"`` when another runner holds the pair)."""
    return run_operation(operation_id)


def _clean_params(*, pair: Pair, kind: str, params: dict, appliance) -> dict:
    params = dict(params or {})
    if kind in ROLE_CHANGES:
        if appliance is None or appliance.pk not in (pair.primary_id, pair.backup_id):
            raise ValidationError({"appliance": "Choose one of the pair's two appliances."})
        params["sync_first"] = bool(params.get("sync_first"))
        params["force"] = bool(params.get("force"))
        if params["force"] and kind != OperationKind.BECOME_BACKUP:
            raise ValidationError({"force": "Forcing applies only to becoming backup when the peer cannot be contacted."})
    elif appliance is not None:
        raise ValidationError({"appliance": "This operation is not started from one side."})
    if kind == OperationKind.FIX_CONFLICT:
        # The member the operator saw chosen on the preview (the operation cancels if the evidence changed) and
        # whether the member made backup is forced (the seed allows force only for becoming backup).
        winner = params.get("winner")
        if winner not in (None, "") and str(winner) not in (str(pair.primary_id), str(pair.backup_id)):
            raise ValidationError({"winner": "Choose one of the pair's two appliances."})
        params["winner"] = int(winner) if winner not in (None, "") else None
        params["force"] = bool(params.get("force"))
    if kind in OperationKind.runbooks():
        return _clean_runbook_params(kind, params)
    allowed = {"sync_first", "force", "guided", "trigger", "adopt_running", "winner"}
    unknown = set(params) - allowed
    if unknown:
        raise ValidationError({"params": f"Unknown parameters: {', '.join(sorted(unknown))}."})
    params["guided"] = bool(params.get("guided"))
    return params


def _clean_runbook_params(kind: str, params: dict) -> dict:
    cleaned: dict = {"guided": bool(params.pop("guided", False))}
    minutes = params.pop("window_minutes", None)
    if minutes not in (None, ""):
        try:
            minutes = int(minutes)
        except (TypeError, ValueError):
            raise ValidationError({"window_minutes": "Enter a whole number of minutes."}) from None
        if not MIN_RUNBOOK_WINDOW_MINUTES <= minutes <= MAX_WINDOW_MINUTES:
            raise ValidationError({"window_minutes": f"Between {MIN_RUNBOOK_WINDOW_MINUTES} and {MAX_WINDOW_MINUTES} "
                                                     "minutes."})
        cleaned["window_minutes"] = minutes
    if kind == OperationKind.UNPLANNED_MAINTENANCE:
        # The seed's one question picks the flow; it must be answered, never defaulted.
        answer = params.pop("login_changed", None)
        if answer not in (True, False, "yes", "no"):
            raise ValidationError({"login_changed": "Answer the question: have /login settings changed since the last "
                                                    "data sync?"})
        cleaned["login_changed"] = answer in (True, "yes")
    if kind == OperationKind.PAIR_UPGRADE:
        method = params.pop("method", None)
        if method not in UPGRADE_METHODS:
            raise ValidationError({"method": "Choose the synchronous or the asynchronous upgrade."})
        cleaned["method"] = method
        cleaned["rma"] = bool(params.pop("rma", False))
        replacement = params.pop("replacement_id", None)
        if replacement is not None:
            cleaned["replacement_id"] = int(replacement)
    if params:
        raise ValidationError({"params": f"Unknown parameters: {', '.join(sorted(params))}."})
    return cleaned


#: Reference §6: the two ways of upgrading a pair (an RMA case's restore path names them the same way).
UPGRADE_METHODS = ("synchronous", "asynchronous")


#: Pair states in which no runbook starts, and why.
RUNBOOK_REFUSALS = {
    PairState.CONFLICT: "The pair is in conflict (two primaries or two backups): fix the conflict first.",
    PairState.BROKEN: "The pair's relationship is broken: establish it first.",
}


def runbook_refusal(pair: Pair, kind: str, params: dict | None = None) -> str:
    """Why a runbook may not start on the pair ("" when it may); the operator sees this reason."""
    if kind not in OperationKind.runbooks():
        return ""
    replacing = kind == OperationKind.PAIR_UPGRADE and (params or {}).get("rma")
    if not replacing and (pair.established_at is None or pair.broken_at is not None):
        return "The pair has no failover relationship: establish it first."
    if replacing and pair.state == PairState.BROKEN:
        return ""  # a replacement is not in failover yet: the runbook establishes it
    return RUNBOOK_REFUSALS.get(pair.state, "")


def _same_request(existing: Operation, *, pair: Pair, kind: str) -> Operation:
    if existing.pair_id != pair.pk or existing.kind != kind:
        raise ValidationError({"idempotency_key": "This idempotency key was already used for a different request."})
    return existing


@dataclass(frozen=True)
class StartRequest:
    """One operation to start: ``operation_start``'s arguments, for ``operations_start``."""

    pair: Pair
    kind: str
    params: dict | None = None
    reason: str = ""
    idempotency_key: str = ""
    appliance: object = None


def operation_start(*, actor, pair: Pair, kind: str, params: dict | None = None, reason: str = "",
                    idempotency_key: str = "", appliance=None) -> Operation:
    """Persist an operation (one active per pair, enforced by the database) and hand it to a worker.

    A request repeated with the same idempotency key returns the operation the first one created.
    """
    outcome, = operations_start(actor=actor, requests=[StartRequest(pair, kind, params, reason, idempotency_key,
                                                                      appliance)])
    if isinstance(outcome, ValidationError):
        raise outcome
    return outcome


def operations_start(*, actor, requests: Sequence[StartRequest]) -> list[Operation | ValidationError]:
    """Start many operations at once, with ``operation_start``'s rules (it is this with one request): for each
    request, the operation started (or the one its idempotency key already created), or why not.

    The cost does not grow with the number of requests (the failover evaluation starts a mass outage's
    failovers in one pass): the repeated keys are read in one query, the pairs locked and their epochs read in
    one, their active operations in one, the operations and their audit records inserted in one each, all in one
    transaction; each operation is handed to a worker once it is committed.
    """
    outcomes: list = [None] * len(requests)
    keys = [""] * len(requests)
    for i, request in enumerate(requests):
        try:
            keys[i] = _checked_key(actor, request)
        except ValidationError as exc:
            outcomes[i] = exc
    # A request repeated with its idempotency key is answered before its parameters are checked again.
    _answer_repeats(requests, keys, outcomes)
    ready = {}
    for i, request in enumerate(requests):
        if outcomes[i] is None:
            try:
                ready[i] = _checked_params(request)
            except ValidationError as exc:
                outcomes[i] = exc
    if not ready:
        return outcomes
    try:
        with transaction.atomic():
            _insert(actor, requests, keys, ready, outcomes)
    except IntegrityError as exc:
        # Only a start that did not come through here could collide (every start locks its pair first): the
        # database's constraints still decide; with several requests, each is tried on its own to say which.
        if len(ready) > 1:
            for i in ready:
                outcomes[i] = operations_start(actor=actor, requests=[requests[i]])[0]
            return outcomes
        i, = ready
        constraint = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", "") or str(exc)
        outcomes[i] = None
        if keys[i] and "idempotency" in constraint:
            _answer_repeats(requests, keys, outcomes)
        if outcomes[i] is None:
            active = Operation.objects.filter(pair=requests[i].pair, status__in=OperationStatus.active()).first()
            outcomes[i] = _busy(requests[i].pair, active)
    return outcomes


def _checked_key(actor, request: StartRequest) -> str:
    """The request's idempotency key, once its kind and the actor's right to start it are checked."""
    if request.kind not in supported_kinds():
        raise ValidationError({"kind": f"“{request.kind}” is not an operation the portal runs."})
    if request.kind in POLICY_ONLY_KINDS and actor is not SYSTEM:
        raise ValidationError({"kind": "Automatic failover is started by the portal's policy, not by hand."})
    require_role(actor, request.pair.organization_id, KIND_ROLES[request.kind])
    key = (request.idempotency_key or "").strip()
    if len(key) > 100:
        raise ValidationError({"idempotency_key": "An idempotency key is at most 100 characters."})
    return key


def _checked_params(request: StartRequest) -> dict:
    params = _clean_params(pair=request.pair, kind=request.kind, params=request.params or {},
                           appliance=request.appliance)
    refusal = runbook_refusal(request.pair, request.kind, params)
    if refusal:
        raise ValidationError(refusal, code="pair_not_ready")
    return params


def _answer_repeats(requests, keys, outcomes) -> None:
    """Answer the requests whose idempotency key already created an operation (one query)."""
    wanted = {(requests[i].pair.organization_id, key) for i, key in enumerate(keys) if key and outcomes[i] is None}
    if not wanted:
        return
    found = {(op.organization_id, op.idempotency_key): op for op in Operation.objects.filter(
        organization_id__in={org for org, _key in wanted}, idempotency_key__in={key for _org, key in wanted})}
    for i, request in enumerate(requests):
        existing = found.get((request.pair.organization_id, keys[i])) if keys[i] and outcomes[i] is None else None
        if existing is not None:
            try:
                outcomes[i] = _same_request(existing, pair=request.pair, kind=request.kind)
            except ValidationError as exc:
                outcomes[i] = exc


def _busy(pair: Pair, active: Operation | None) -> ValidationError:
    return ValidationError(f"Another operation is already running on this pair ({active or 'just started'}); "
                           "one operation at a time. Wait for it to finish.", code="pair_busy")


def _insert(actor, requests, keys, ready: dict[int, dict], outcomes: list) -> None:
    """The inserting part of ``operations_start``, inside its transaction."""
    # The pair rows are locked (in one order, so two passes never deadlock) so that deleting or re-membering a
    # pair (pair_delete, pair_update), or another start, cannot slip in between these checks and the insert:
    # under the lock, what is read here stays true until the commit.
    pair_ids = {requests[i].pair.pk for i in ready}
    epochs = dict(Pair.objects.select_for_update().filter(pk__in=pair_ids).order_by("pk")
                  .values_list("pk", "epoch"))
    # Another pass may have started the same keys while this one waited for the locks.
    _answer_repeats(requests, keys, outcomes)
    waiting = OperationStep.objects.filter(operation=OuterRef("pk"), status=StepStatus.WAITING)
    active = {operation.pair_id: operation for operation in Operation.objects.filter(
        pair_id__in=pair_ids, status__in=OperationStatus.active()).annotate(guided=Exists(waiting))}
    new, taken = {}, {}
    for i, params in ready.items():
        request = requests[i]
        pair_id = request.pair.pk
        if outcomes[i] is not None:
            continue
        if pair_id not in epochs:
            outcomes[i] = ValidationError("The pair no longer exists.", code="pair_gone")
            continue
        if pair_id in taken:  # a second request for one pair in this batch: one operation at a time
            first = new[taken[pair_id]]
            outcomes[i] = (first if keys[i] and keys[i] == first.idempotency_key and first.kind == request.kind
                           else _busy(request.pair, first))
            continue
        running = active.get(pair_id)
        if running is not None:
            # A step waiting for a person never holds up what takes precedence: starting it closes that step.
            if not (running.guided and request.kind in TAKES_PRECEDENCE):
                outcomes[i] = _busy(request.pair, running)
                continue
            _close_guided(pair=request.pair, kind=request.kind, actor=actor)
        taken[pair_id] = i
        new[i] = Operation(
            organization_id=request.pair.organization_id, pair=request.pair, appliance=request.appliance,
            kind=request.kind, params=params, reason=request.reason[:500],
            requested_by=actor if getattr(actor, "pk", None) else None, idempotency_key=keys[i],
            epoch=epochs[pair_id],
        )
    if not new:
        return
    Operation.objects.bulk_create(new.values())
    AuditEvent.objects.bulk_create([_start_event(actor, requests[i], operation) for i, operation in new.items()])
    for i, operation in new.items():
        outcomes[i] = operation
        _enqueue(operation)


def _start_event(actor, request: StartRequest, operation: Operation):
    return audit_event(
        actor=actor, organization=request.pair.organization, action=AuditAction.ACTION, obj=operation,
        verb=f"start {operation.kind}",
        summary=f"{operation.get_kind_display()} on {request.pair}" + (f": {request.reason}" if request.reason else ""),
        changes={"params": operation.params, **({"appliance": str(request.appliance)} if request.appliance else {})},
    )


def _waiting_step(operation: Operation) -> OperationStep | None:
    return operation.steps.filter(status=StepStatus.WAITING).first()


def operation_confirm(*, actor, operation: Operation) -> Operation:
    """The operator says a guided step is done: the worker verifies it on the appliance and carries on."""
    require_role(actor, operation.organization_id, KIND_ROLES.get(operation.kind, Role.OPERATOR))
    step = _waiting_step(operation)
    if not operation.is_active or step is None:
        raise ValidationError("This operation is not waiting for the operator.")
    # A checkpoint goes on once confirmed (and verified); a guided step is verified on the appliance anyway.
    OperationStep.objects.filter(pk=step.pk).update(confirmed_at=timezone.now(),
                                                    confirmed_by=actor if getattr(actor, "pk", None) else None)
    audit_record(actor=actor, organization=operation.organization, action=AuditAction.ACTION, obj=operation,
                 verb="confirm step", summary=f"Operator reports “{step.description}” done")
    _enqueue(operation)
    return operation


def operation_cancel(*, actor, operation: Operation, reason: str = "") -> Operation:
    """Cancel an operation that is not touching an appliance right now (pending, or waiting for the operator)."""
    require_role(actor, operation.organization_id, KIND_ROLES.get(operation.kind, Role.OPERATOR))
    with transaction.atomic():
        locked = Operation.objects.select_for_update().get(pk=operation.pk)
        waiting = _waiting_step(locked)
        if not (locked.status == OperationStatus.PENDING or (locked.is_active and waiting is not None)):
            raise ValidationError("Only a pending operation or one waiting for the operator can be cancelled.")
        now = timezone.now()
        locked.status, locked.finished_at = OperationStatus.CANCELLED, now
        locked.error = f"Cancelled by {getattr(actor, 'username', 'the system')}" + (f": {reason}" if reason else ".")
        locked.save(update_fields=["status", "finished_at", "error", "updated_at"])
        locked.steps.filter(status__in=[StepStatus.PENDING, StepStatus.WAITING]).update(status=StepStatus.SKIPPED)
        audit_record(actor=actor, organization=locked.organization, action=AuditAction.ACTION, obj=locked,
                     verb="cancel operation", summary=reason or locked.error)
    return locked


def operations_resume_stale(*, stale_after: timedelta | None = None) -> list[int]:
    """Hand operations whose worker died back to a worker. The runner re-checks in-flight steps, so this
    never doubles an appliance call; operations waiting for the operator are left alone."""
    if stale_after is None:
        stale_after = timedelta(seconds=settings.FAILOVER_OPERATION_STALE_SECONDS)
    cutoff = timezone.now() - stale_after
    waiting = OperationStep.objects.filter(operation=OuterRef("pk"), status=StepStatus.WAITING)
    stale = Operation.objects.filter(
        Q(status=OperationStatus.RUNNING, heartbeat_at__lt=cutoff)
        | Q(status=OperationStatus.RUNNING, heartbeat_at__isnull=True, updated_at__lt=cutoff)
        | Q(status=OperationStatus.PENDING, created_at__lt=cutoff)
    ).exclude(Exists(waiting))
    ids = list(stale.values_list("pk", flat=True)[:500])
    for operation_id in ids:
        _enqueue(Operation(pk=operation_id))
    return ids


def syncs_schedule_due(*, now=None) -> list[int]:
    """Start a scheduled sync on every established pair whose backup is due one (its automatic sync interval
    has passed since the last sync, or the first sync after establishing is due). The sync first looks at the
    appliance's own history: when the appliance already synced by itself, it is recorded, not repeated."""
    now = now or timezone.now()
    interval = Seconds("backup__backup_settings__sync_interval")
    active = Operation.objects.filter(pair=OuterRef("pk"), status__in=OperationStatus.active())
    due = (
        # Only while the backup's settings ask for scheduled syncs, whichever reason made the pair due (a retry
        # after a failed sync included): turning them off stops the portal's syncs at once.
        Pair.objects.filter(established_at__isnull=False, broken_at__isnull=True,
                            backup__backup_settings__enable_backup_operations=True,
                            backup__backup_settings__sync_interval__gt=0)
        # A vendor-only backup runs its automatic syncs by itself (the probes record them): nothing to schedule.
        .exclude(backup__extension_actions=[])
        .annotate(interval=interval)
        .filter(
            Q(next_sync_at__lte=now)
            | (Q(next_sync_at__isnull=True)
               & (Q(last_sync_at__isnull=True) | Q(last_sync_at__lt=now - F("interval"))))
        )
        .exclude(Exists(active))
        .select_related("organization", "backup__backup_settings")
    )
    started = []
    for pair in due[:1000]:
        settings_row = getattr(pair.backup, "backup_settings", None)
        retry = timedelta(seconds=max(600, (settings_row.sync_interval if settings_row else 0) or 0))
        Pair.objects.filter(pk=pair.pk).update(next_sync_at=now + retry)
        try:
            operation = operation_start(
                actor=SYSTEM, pair=pair, kind=OperationKind.SYNC, reason="Scheduled sync",
                params={"trigger": SyncTrigger.SCHEDULE, "adopt_running": True},
            )
        except ValidationError:
            continue  # another operation got there first; the next run will look again
        started.append(operation.pk)
    return started
