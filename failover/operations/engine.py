"""The operation runner: executes an Operation's steps under the pair's lock, persisting every step.

Crash safety, in three rules:

* a step is marked *running* (committed) before it touches an appliance and *done* right after, so a
  worker killed in between leaves a step that says "I may have happened";
* on resume a done step is never redone, and a running step with a side effect is first *re-checked*
  against the appliance (its ``recheck`` reads the appliance's state) before it is repeated;
* every role change bumps the pair's epoch together with the operation's (one transaction); an operation
  whose epoch no longer matches the pair's is fenced off: another actor changed the roles since it was planned.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import F
from django.utils import timezone

from appliances.connect import ClientPurpose, appliance_client
from appliances.drivers import ApplianceClient, ApplianceError, Capabilities
from appliances.services import appliance_record_capabilities
from portal import metrics
from portal.db import without_database
from portal.models import AuditAction
from portal.permissions import SYSTEM
from portal.services.audit import audit_record

from ..models import Operation, OperationStatus, OperationStep, Pair, StepStatus
from ..probing import probe_appliances
from .locks import LockLost, PairLock
from .registry import ON_FAILURE, PLANNERS

logger = logging.getLogger(__name__)


class RunOutcome(StrEnum):
    """What one call of the runner did, besides an operation's final status (succeeded, failed, cancelled)."""

    FINISHED = "finished"  # the operation was already over
    LOCKED = "locked"  # another runner holds the pair: the task retries
    LOCK_LOST = "lock lost"  # the pair's lock expired mid-run: resumed later
    WAITING = "waiting"  # a step waits for a person (or a later poll)


class StepOutcome(StrEnum):
    DONE = "done"
    WAITING = "waiting"


#: Where an operation's state names the member its latest role change made primary (set with the epoch bump).
MADE_PRIMARY_KEY = "made_primary"


class StepFailed(Exception):
    """The step could not do its job; the message is shown to the operator as is."""


class OperationCancelled(Exception):
    """The operation stops without harm (e.g. a swap that could not keep one primary and one backup)."""


@dataclass(frozen=True)
class Waiting:
    """Returned by a guided step: the operator must act on the appliance; ``instructions`` say how."""

    instructions: str


@dataclass(frozen=True)
class Skipped:
    reason: str


StepResult = str | Waiting | Skipped | None


@dataclass(frozen=True)
class Step:
    name: str
    description: str
    run: Callable[[Context], StepResult]
    # After a crash mid-step: return a detail when the appliance shows the effect already happened.
    recheck: Callable[[Context], str | None] | None = None
    # Guided steps: return a detail once the appliance shows the operator did it, None while not yet.
    verify: Callable[[Context], str | None] | None = None


def poll_interval() -> float:
    return float(settings.FAILOVER_POLL_INTERVAL)


class Context:
    """What a step sees: the operation, its pair, clients, persisted state and progress reporting."""

    def __init__(self, operation: Operation, lock: PairLock | None = None) -> None:
        self.operation = operation
        self.pair: Pair = operation.pair
        self.lock = lock
        self.state: dict[str, Any] = operation.result if isinstance(operation.result, dict) else {}
        self.step: OperationStep | None = None
        self._clients: dict[int, ApplianceClient] = {}
        self._capabilities: dict[int, Capabilities] = {}

    @property
    def params(self) -> dict:
        return self.operation.params or {}

    def appliance(self, appliance_id: int):
        pair = self.pair
        return pair.primary if appliance_id == pair.primary_id else pair.backup

    def client(self, appliance) -> ApplianceClient:
        if appliance.pk not in self._clients:
            self._clients[appliance.pk] = appliance_client(appliance, purpose=ClientPurpose.OPERATION)
        return self._clients[appliance.pk]

    def supports(self, appliance, action: str) -> bool:
        if appliance.pk not in self._capabilities:
            self._capabilities[appliance.pk] = self.client(appliance).get_capabilities()
            appliance_record_capabilities(appliance=appliance, capabilities=self._capabilities[appliance.pk])
        return self._capabilities[appliance.pk].supports(action)

    def guided(self, appliance, action: str) -> bool:
        """Guided manual steps when asked for, or when the appliance does not offer the extension action."""
        return bool(self.params.get("guided")) or not self.supports(appliance, action)

    def remember(self, **values) -> None:
        self.state.update(values)
        Operation.objects.filter(pk=self.operation.pk).update(result=self.state)

    def heartbeat(self, progress: str | None = None) -> None:
        now = timezone.now()
        Operation.objects.filter(pk=self.operation.pk).update(heartbeat_at=now, result=self.state)
        if progress is not None and self.step is not None:
            self.step.detail = progress
            OperationStep.objects.filter(pk=self.step.pk).update(detail=progress)
        if self.lock is not None:
            self.lock.extend()

    def poll(self, check: Callable[[], Any], *, timeout: float, what: str) -> Any:
        """Call ``check`` until it returns something other than None; heartbeat meanwhile."""
        deadline = time.monotonic() + timeout
        while True:
            value = check()
            if value is not None:
                return value
            if time.monotonic() > deadline:
                raise StepFailed(f"Gave up waiting for {what} after {int(timeout)} seconds.")
            self.heartbeat()
            time.sleep(poll_interval())

    def without_database(self, wait: Callable[[], Any]) -> Any:
        """Run ``wait`` (e.g. a fence knock waiting out its timeout on a silent address) with the connection
        given back (``portal.db.without_database``), so an operations worker can run far more failovers at once
        than it holds connections."""
        return without_database(wait)

    def bump_epoch(self, *, primary) -> int:
        """Fencing before a role change: succeeds only while nobody else changed the roles since planning.

        ``primary``: the member this role change makes primary (None: no member is, e.g. breaking the
        relationship). Recorded with the new epoch (``MADE_PRIMARY_KEY`` in the operation's state), so the portal
        knows whom the current epoch made primary once the operation has succeeded (``survivor.epoch_primary``)."""
        with transaction.atomic():
            updated = Pair.objects.filter(pk=self.pair.pk, epoch=self.operation.epoch).update(epoch=F("epoch") + 1)
            if not updated:
                raise OperationCancelled(
                    "The pair's roles were changed by something else since this operation was planned; "
                    "nothing was done. Look at the pair's current status and start again if still needed."
                )
            self.operation.epoch += 1
            self.state[MADE_PRIMARY_KEY] = primary.pk if primary is not None else None
            Operation.objects.filter(pk=self.operation.pk).update(epoch=self.operation.epoch, result=self.state)
        self.pair.epoch = self.operation.epoch
        return self.operation.epoch


def _planner(kind: str) -> Callable[[Context], list[Step]]:
    return PLANNERS[kind]


def _update_step(step: OperationStep, **fields) -> None:
    for name, value in fields.items():
        setattr(step, name, value)
    OperationStep.objects.filter(pk=step.pk).update(**fields)


def _ensure_steps(operation: Operation, plan: list[Step]) -> list[OperationStep]:
    rows = list(operation.steps.order_by("index"))
    if not rows:
        rows = OperationStep.objects.bulk_create(
            OperationStep(organization_id=operation.organization_id, operation=operation, index=index,
                          name=step.name, description=step.description)
            for index, step in enumerate(plan)
        )
    names = [step.name for step in plan]
    if [row.name for row in rows] == names[:len(rows)] and len(rows) < len(plan):
        # Planned by an older release whose plan ended earlier (e.g. before every role change ended with the swing
        # step): the steps it ran are the same, so the new trailing steps are appended and run after them.
        rows += OperationStep.objects.bulk_create(
            OperationStep(organization_id=operation.organization_id, operation=operation, index=index,
                          name=step.name, description=step.description)
            for index, step in enumerate(plan) if index >= len(rows)
        )
    if [row.name for row in rows] != names:
        raise StepFailed("The operation's persisted steps no longer match its plan; it cannot be resumed safely.")
    return rows


def _finish(operation: Operation, status: str, error: str = "", state: dict | None = None) -> None:
    now = timezone.now()
    operation.status, operation.error, operation.finished_at = status, error[:2000], now
    if state is not None:
        operation.result = state
    Operation.objects.filter(pk=operation.pk).update(
        status=status, error=operation.error, finished_at=now, heartbeat_at=now, result=operation.result
    )
    metrics.OPERATIONS.inc(kind=operation.kind, outcome=status)
    if operation.started_at:
        metrics.OPERATION_SECONDS.observe((now - operation.started_at).total_seconds(), kind=operation.kind,
                                          outcome=status)
    audit_record(
        actor=SYSTEM, organization=operation.organization, action=AuditAction.ACTION, obj=operation,
        verb=f"operation {status}", summary=f"{operation.get_kind_display()} on {operation.pair}: {status}"
        + (f" ({error[:300]})" if error else ""),
    )


def run_operation(operation_id: int) -> str:
    """Run (or resume) one operation. Safe to call twice, concurrently or after a crash: returns what it did."""
    operation = Operation.objects.select_related("pair__primary", "pair__backup", "organization").filter(
        pk=operation_id
    ).first()
    if operation is None or not operation.is_active:
        return RunOutcome.FINISHED
    lock = PairLock(operation.pair_id)
    if not lock.acquire():
        return RunOutcome.LOCKED
    try:
        operation.refresh_from_db(fields=["status", "epoch", "result", "attempts", "started_at"])
        if not operation.is_active:
            return RunOutcome.FINISHED
        outcome = _run_locked(operation, lock)
        if outcome in (OperationStatus.SUCCEEDED, OperationStatus.FAILED, OperationStatus.CANCELLED):
            _probe_members(operation)
        return outcome
    except LockLost:
        # Stalled past the lock's TTL and someone else resumed the operation: stop without touching it.
        logger.warning("operation %s: lost the pair lock; leaving the operation to its new runner", operation_id)
        return RunOutcome.LOCK_LOST
    finally:
        lock.release()


def _probe_members(operation: Operation) -> None:
    """Probe both members at once as the operation ends, so the pair page shows the roles it left instead of the
    old ones until the next scheduled probe (up to a minute). Best effort: the operation's outcome stands."""
    pair = operation.pair
    try:
        probe_appliances([pair.primary_id, pair.backup_id])
    except DatabaseError:
        logger.warning("operation %s: probing the members afterwards failed", operation.pk, exc_info=True)


def _run_locked(operation: Operation, lock: PairLock) -> str:
    now = timezone.now()
    operation.attempts += 1
    operation.started_at = operation.started_at or now
    Operation.objects.filter(pk=operation.pk).update(
        status=OperationStatus.RUNNING, attempts=operation.attempts, started_at=operation.started_at, heartbeat_at=now
    )
    operation.status = OperationStatus.RUNNING
    context = Context(operation, lock)
    pair = operation.pair
    pair.refresh_from_db(fields=["epoch"])
    try:
        if pair.epoch != operation.epoch:
            raise OperationCancelled(
                "The pair's roles changed since this operation was planned (another operation or an automatic "
                "failover); nothing was done."
            )
        plan = _planner(operation.kind)(context)
        rows = _ensure_steps(operation, plan)
        for row, step in zip(rows, plan, strict=True):
            context.step = row
            outcome = _run_step(context, row, step)
            if outcome == StepOutcome.WAITING:
                return RunOutcome.WAITING
        _finish(operation, OperationStatus.SUCCEEDED, state=context.state)
        return OperationStatus.SUCCEEDED
    except OperationCancelled as exc:
        _close_current(context, StepStatus.SKIPPED, str(exc))
        _finish(operation, OperationStatus.CANCELLED, str(exc), context.state)
        _after_failure(context)
        return OperationStatus.CANCELLED
    except (StepFailed, ApplianceError) as exc:
        _close_current(context, StepStatus.FAILED, str(exc))
        _finish(operation, OperationStatus.FAILED, str(exc), context.state)
        _after_failure(context)
        return OperationStatus.FAILED
    except (LockLost, DatabaseError):
        raise  # lost lock: leave it to the new holder; database trouble: the task retries and resumes
    except Exception as exc:
        # A bug must not leave the pair locked by an operation that is resumed (and fails) forever.
        logger.exception("operation %s failed unexpectedly", operation.pk)
        message = f"Unexpected error ({type(exc).__name__}); the operation stopped. Check the pair's status."
        _close_current(context, StepStatus.FAILED, message)
        _finish(operation, OperationStatus.FAILED, message, context.state)
        return OperationStatus.FAILED


def _after_failure(context: Context) -> None:
    hook = ON_FAILURE.get(context.operation.kind)
    if hook is None:
        return
    try:
        hook(context)
    except Exception:  # the operation's outcome is recorded already; a failing hook must not hide it
        logger.exception("operation %s: failure hook failed", context.operation.pk)


def _close_current(context: Context, status: str, detail: str) -> None:
    row = context.step
    if row is not None and row.status in (StepStatus.RUNNING, StepStatus.PENDING, StepStatus.WAITING):
        _update_step(row, status=status, finished_at=timezone.now(), detail=detail[:4000])


def _run_step(context: Context, row: OperationStep, step: Step) -> str:
    if row.status in (StepStatus.DONE, StepStatus.SKIPPED):
        return StepOutcome.DONE
    if row.status == StepStatus.WAITING:
        verified = step.verify(context) if step.verify else None
        if verified is None:
            context.heartbeat()
            return StepOutcome.WAITING
        _update_step(row, status=StepStatus.DONE, finished_at=timezone.now(), detail=f"Verified: {verified}")
        return StepOutcome.DONE
    if row.status == StepStatus.RUNNING and step.recheck is not None:
        already = step.recheck(context)
        if already is not None:
            _update_step(row, status=StepStatus.DONE, finished_at=timezone.now(),
                         detail=f"{already} (found done after a restart, not repeated)")
            return StepOutcome.DONE
    _update_step(row, status=StepStatus.RUNNING, started_at=row.started_at or timezone.now())
    result = step.run(context)
    if isinstance(result, Waiting):
        _update_step(row, status=StepStatus.WAITING, detail=result.instructions)
        context.heartbeat()
        return StepOutcome.WAITING
    if isinstance(result, Skipped):
        _update_step(row, status=StepStatus.SKIPPED, finished_at=timezone.now(), detail=result.reason)
        return StepOutcome.DONE
    _update_step(row, status=StepStatus.DONE, finished_at=timezone.now(), detail=(result or row.detail or "")[:4000])
    context.heartbeat()
    return StepOutcome.DONE
