"""Break the relationship: both members leave failover and stop syncing; the data already copied stays."""

from __future__ import annotations

from django.utils import timezone

from appliances.drivers import ApplianceRefused
from appliances.models import FailoverRole

from ..models import OperationKind, Pair
from .engine import Context, Step, StepFailed, Waiting
from .registry import planner
from .roles import describe, read_role, read_roles


def _caller(context: Context):
    """Break from the member that answers, the normal primary first."""
    pair = context.pair
    for appliance in (pair.primary, pair.backup):
        if read_role(context, appliance).reachable:
            return appliance
    raise StepFailed("Neither member can be contacted; nothing was changed.")


def _broken_now(context: Context) -> str | None:
    readings = read_roles(context)
    answering = [r for r in readings if r.reachable]
    if answering and all(r.role == FailoverRole.NONE for r in answering):
        return describe(readings)
    return None


def break_relationship(context: Context):
    caller = _caller(context)
    if context.guided(caller, "x_break_relationship"):
        return Waiting(
            f"Sign in to /login on {caller.name} ({caller.management_host}), open Management > Failover and click "
            "“Break Failover Relationships”. Then come back here and click “Verify”."
        )
    context.bump_epoch(primary=None)  # no relationship: nobody is primary of the pair
    try:
        answer = context.client(caller).break_relationship()
    except ApplianceRefused as exc:
        if read_role(context, caller).role == FailoverRole.NONE:
            return f"{caller.name} was not in a relationship any more."
        raise StepFailed(f"{caller.name} refused to break the relationship: {exc.detail}") from exc
    return f"{caller.name}: {answer.message}"


def verify(context: Context) -> str:
    readings = read_roles(context)
    paired = [r for r in readings if r.reachable and r.role != FailoverRole.NONE]
    if paired:
        raise StepFailed(f"The relationship is still in place: {describe(readings)}.")
    unreachable = [r for r in readings if not r.reachable]
    if unreachable:
        return (f"{describe(readings)}. {unreachable[0].name} could not be told and may still believe it is "
                "paired: break the relationship there too when it is back.")
    return describe(readings)


def record(context: Context) -> str:
    Pair.objects.filter(pk=context.pair.pk).update(broken_at=timezone.now(), next_sync_at=None)
    return "The pair no longer syncs; the data already copied to the backup is kept."


def break_steps() -> list[Step]:
    return [
        Step("break", "Break the relationship", break_relationship, recheck=_broken_now, verify=_broken_now),
        Step("verify", "Check both members left failover", verify),
        Step("record", "Record the break", record),
    ]


@planner(OperationKind.BREAK)
def plan(context: Context) -> list[Step]:
    return break_steps()
