"""Establish the relationship on the intended primary (the pre-checks ran in ``pair_establish`` before this
operation existed), verify the roles, and plan the first sync about a minute later, as the appliance does."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from appliances.drivers import ApplianceRefused

from ..models import OperationKind, Pair
from .engine import Context, Step, StepFailed, Waiting
from .registry import planner
from .roles import describe, read_roles, roles_are

FIRST_SYNC_DELAY = timedelta(seconds=60)
SETTLE_TIMEOUT = 60.0


#: Set in the state by a runbook that re-establishes from the normal backup (an asynchronous upgrade ends with
#: the normal backup primary): the pair's connection details are then used the other way round.
REVERSED_KEY = "establish_reversed"


def _direction(context: Context):
    """(new primary, new backup, host/port the primary reaches the backup on, host/port back to the primary)."""
    pair = context.pair
    if context.state.get(REVERSED_KEY):
        return pair.backup, pair.primary, (pair.reverse_host, pair.reverse_port), (pair.backup_host, pair.backup_port)
    return pair.primary, pair.backup, (pair.backup_host, pair.backup_port), (pair.reverse_host, pair.reverse_port)


def establish(context: Context):
    pair = context.pair
    primary, _backup, (backup_host, backup_port), (reverse_host, reverse_port) = _direction(context)
    if context.guided(primary, "x_establish_relationship"):
        return Waiting(
            f"Sign in to /login on {primary.name} ({primary.management_host}), open Management > Failover "
            f"and under “New Backup Site Connection Details” enter host {backup_host}, port {backup_port}; "
            f"under “Reverse Connection Details to this Primary Site” enter host {reverse_host}, port "
            f"{reverse_port}. Click “Establish Relationship”, then come back here and click “Verify”."
        )
    context.bump_epoch(primary=primary)
    try:
        answer = context.client(primary).establish_relationship(
            backup_host=backup_host, backup_port=backup_port, reverse_host=reverse_host,
            reverse_port=reverse_port, network_method=pair.network_method,
        )
    except ApplianceRefused as exc:
        raise StepFailed(f"{primary.name} refused to establish the relationship: {exc.detail}") from exc
    return answer.message


def established_now(context: Context) -> str | None:
    primary, backup, _there, _back = _direction(context)
    return roles_are(context, primary=primary, backup=backup)


def verify_roles(context: Context) -> str:
    def settled():
        return established_now(context)

    try:
        return context.poll(settled, timeout=SETTLE_TIMEOUT, what="the new roles")
    except StepFailed:
        raise StepFailed(f"The relationship did not take effect: {describe(read_roles(context))}.") from None


def record(context: Context) -> str:
    now = timezone.now()
    first_sync = now + FIRST_SYNC_DELAY
    Pair.objects.filter(pk=context.pair.pk).update(established_at=now, broken_at=None, next_sync_at=first_sync)
    context.remember(first_sync_expected=first_sync.isoformat())
    return f"Relationship recorded; the first data sync is expected around {first_sync:%H:%M:%S} UTC."


def establish_steps() -> list[Step]:
    return [
        Step("establish", "Establish the relationship on the intended primary", establish,
             recheck=established_now, verify=established_now),
        Step("verify_roles", "Check one is primary and the other backup", verify_roles),
        Step("record", "Record the relationship and schedule the first sync", record),
    ]


@planner(OperationKind.ESTABLISH)
def plan(context: Context) -> list[Step]:
    return establish_steps()
