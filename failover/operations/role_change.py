"""Become primary / become backup, from either side, with the appliance's two options:

* ``sync_first``: pull a data sync before swapping (users are disconnected and nothing else is possible on
  the pair until the swap completes);
* ``force`` (primary side): become backup even when the peer cannot be contacted. Without it, a swap that
  cannot keep one primary and one backup is cancelled by the appliance, and reported here as cancelled.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from django.utils import timezone

from appliances.drivers import ApplianceError, ApplianceRefused
from appliances.models import FailoverRole

from ..models import OperationKind, SyncRecord, SyncResult, SyncTrigger
from .engine import Context, OperationCancelled, Skipped, Step, StepFailed
from .registry import planner
from .roles import RoleReading, describe, read_role
from .swing_step import swing_step
from .sync import sync_timeout
from .sync_records import finish_sync_record, parse_bytes, parse_time, sync_succeeded

SWAP_TIMEOUT = 300.0


@dataclass(frozen=True)
class RoleRequest:
    """One role change: which member acts, the role it takes, and the appliance's two options."""

    acting_id: int
    role: str
    sync_first: bool = False
    force: bool = False


#: Where a runbook keeps the role change it is making now (it makes several: out, and back).
REQUEST_KEY = "role_request"
#: What one role change remembers; cleared before a runbook's next role change so the two never mix.
_CHANGE_KEYS = ("roles_before", "peer_reachable_before", "nothing_to_do", "sync_baseline_count", "changed_at",
                "pending_sync", "sync_record_id", "sync_status", "roles_after")


def role_request(context: Context) -> RoleRequest:
    """The role change a step makes: the runbook's current one, else the operation's own (become primary/backup
    from the appliance it was started from)."""
    stored = context.state.get(REQUEST_KEY)
    if stored:
        return RoleRequest(**stored)
    operation = context.operation
    return RoleRequest(
        acting_id=operation.appliance_id,
        role="primary" if operation.kind == OperationKind.BECOME_PRIMARY else "backup",
        sync_first=bool(context.params.get("sync_first")), force=bool(context.params.get("force")),
    )


def request_role_change(context: Context, request: RoleRequest) -> None:
    """Start a new role change inside a runbook: the previous one's remembered values are dropped."""
    for key in _CHANGE_KEYS:
        context.state.pop(key, None)
    context.remember(**{REQUEST_KEY: asdict(request)})


def _target_role(context: Context) -> str:
    return role_request(context).role


def _opposite(role: str) -> str:
    return "backup" if role == "primary" else "primary"


def _acting(context: Context):
    """The appliance the role change is made from."""
    return context.appliance(role_request(context).acting_id)


def _peer(context: Context):
    return context.pair.peer_of(_acting(context))


def check_roles(context: Context) -> str:
    acting, peer = _acting(context), _peer(context)
    mine, theirs = read_role(context, acting), read_role(context, peer)
    context.remember(roles_before=describe((mine, theirs)), peer_reachable_before=theirs.reachable)
    if not mine.reachable:
        raise StepFailed(f"{acting.name} cannot be contacted: {mine.error}")
    role = _target_role(context)
    if mine.role == FailoverRole.NONE:
        raise StepFailed(f"{acting.name} is not in a failover relationship; establish the relationship first.")
    if mine.role == role and theirs.role == _opposite(role):
        context.remember(nothing_to_do=True)
        return f"Nothing to do: {describe((mine, theirs))}."
    return describe((mine, theirs))


def change_role(context: Context):
    if context.state.get("nothing_to_do"):
        return Skipped("The roles are already as asked.")
    acting = _acting(context)
    client = context.client(acting)
    role = _target_role(context)
    request = role_request(context)
    sync_first, force = request.sync_first, request.force
    if sync_first and context.supports(acting, "x_get_sync_status"):
        context.remember(sync_baseline_count=len(client.get_sync_status().history))
    context.bump_epoch(primary=acting if role == FailoverRole.PRIMARY else _peer(context))
    context.remember(changed_at=timezone.now().replace(microsecond=0).isoformat())
    try:
        answer = client.set_failover_role(role, data_sync_first=sync_first, force=force)
    except ApplianceRefused as exc:
        raise OperationCancelled(
            f"{acting.name} refused to become {role}: {exc.detail} The roles were left as they were."
        ) from exc
    context.remember(pending_sync=answer.pending_data_sync)
    if answer.pending_data_sync:
        record = SyncRecord.objects.create(
            organization_id=context.pair.organization_id, pair=context.pair, operation=context.operation,
            trigger=SyncTrigger.OPERATION, started_at=timezone.now(), result=SyncResult.RUNNING,
        )
        context.remember(sync_record_id=record.pk)
    return answer.message


def change_role_recheck(context: Context) -> str | None:
    acting = _acting(context)
    reading = read_role(context, acting)
    if reading.role == _target_role(context):
        return f"{acting.name} is already {reading.role}."
    if role_request(context).sync_first and context.supports(acting, "x_get_sync_status"):
        status = context.client(acting).get_sync_status()
        if status.operation_in_progress:
            context.remember(pending_sync=True)
            return f"{acting.name} is already busy with the requested change ({status.operation_in_progress})."
    return None


def _record_sync_first(context: Context) -> None:
    """The appliance ran the sync itself; copy its outcome into the sync history: from its sync history where it
    offers the extension, otherwise from the sync time its health answer reports. Never left running."""
    if not context.state.get("sync_record_id"):
        return
    if "sync_baseline_count" in context.state:
        history = context.client(_acting(context)).get_sync_status().history
        if len(history) > context.state["sync_baseline_count"]:
            entry = history[0]
            finish_sync_record(context, started=parse_time(entry.get("started")),
                               finished=parse_time(entry.get("finished")), size=parse_bytes(entry.get("bytes")),
                               status=str(entry.get("status") or ""))
            context.remember(sync_status=str(entry.get("status") or ""))
            return
    requested = parse_time(context.state.get("changed_at"))
    for appliance in (_acting(context), _peer(context)):
        health = read_role(context, appliance).health
        finished = health.last_data_sync_at if health else None
        if requested and finished and finished >= requested:
            status = health.last_data_sync_status or ""
            finish_sync_record(context, started=None, finished=finished, size=None, status=status,
                               start_reported=False)
            context.remember(sync_status=status)
            return
    finish_sync_record(context, started=None, finished=None, size=None, status="", start_reported=False,
                       result=SyncResult.UNKNOWN,
                       message="Neither appliance reported a sync after the request; its outcome is unknown.")


def _sync_over(context: Context, reading) -> bool:
    """Whether the sync before the swap is over. With the sync-status extension "not busy" says so; through
    check_health alone, only a sync finished after the request (and not successful) says so."""
    if reading.health is None:
        return True
    requested = parse_time(context.state.get("changed_at"))
    finished = reading.health.last_data_sync_at
    return bool(requested and finished and finished >= requested
                and not sync_succeeded(reading.health.last_data_sync_status))


def wait_roles(context: Context):
    if context.state.get("nothing_to_do"):
        return Skipped("The roles are already as asked.")
    acting, peer = _acting(context), _peer(context)
    role = _target_role(context)
    request = role_request(context)
    force, sync_first = request.force, request.sync_first

    def settled():
        # "Busy" and the acting member's role come from one answer: read apart, a swap finishing between the
        # two reads would look like a swap that never happened.
        busy = ""
        if sync_first and context.supports(acting, "x_get_sync_status"):
            try:
                status = context.client(acting).get_sync_status()
            except ApplianceError as exc:
                context.heartbeat(f"{acting.name} does not answer: {exc}")
                return None
            busy = status.operation_in_progress
            if busy:
                context.heartbeat(f"{acting.name}: {busy.replace('_', ' ')} in progress")
                return None
            mine = RoleReading(acting.pk, acting.name, str(status.failover_role), None)
        else:
            mine = read_role(context, acting)
        theirs = read_role(context, peer)
        if mine.role == role and theirs.role == _opposite(role):
            return ("ok", mine, theirs)
        if mine.role == role and not theirs.reachable:
            return ("alone", mine, theirs)
        if sync_first and mine.reachable and mine.role != role and _sync_over(context, mine):
            return ("sync_failed", mine, theirs)
        if force and role == FailoverRole.BACKUP and mine.role == FailoverRole.BACKUP:
            return ("alone", mine, theirs)
        context.heartbeat(f"Waiting for the roles to settle: {describe((mine, theirs))}")
        return None

    timeout = SWAP_TIMEOUT + (sync_timeout() if sync_first else 0)
    outcome, mine, theirs = context.poll(settled, timeout=timeout, what="the role change to complete")
    if sync_first:
        _record_sync_first(context)
    roles = describe((mine, theirs))
    context.remember(roles_after=roles)
    if outcome == "sync_failed":
        status = context.state.get("sync_status", "")
        raise OperationCancelled(
            f"The data sync before the swap did not succeed ({status or 'no sync recorded'}), so the role change "
            f"was cancelled: {roles}."
        )
    if outcome == "alone":
        return (
            f"{roles}. {peer.name} could not be told and may still hold its old role; check it when it is back "
            "(a conflict there is fixed with “Fix this error”)."
        )
    if sync_first and not sync_succeeded(context.state.get("sync_status")):
        return f"{roles} (the sync before the swap was not recorded)."
    return roles


@planner(OperationKind.BECOME_PRIMARY, OperationKind.BECOME_BACKUP)
def plan(context: Context) -> list[Step]:
    role = _target_role(context)
    return [
        Step("check_roles", "Read both members' roles", check_roles),
        Step("change_role", f"Ask the appliance to become {role}", change_role, recheck=change_role_recheck),
        Step("wait_roles", "Wait until one is primary and the other backup", wait_roles),
        swing_step(),
    ]
