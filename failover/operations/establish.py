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


def establish(context: Context):
    pair = context.pair
    if context.guided(pair.primary, "x_establish_relationship"):
        return Waiting(
            f"Sign in to /login on {pair.primary.name} ({pair.primary.management_host}), open Management > Failover "
            f"and under “New Backup Site Connection Details” enter host {pair.backup_host}, port {pair.backup_port}; "
            f"under “Reverse Connection Details to this Primary Site” enter host {pair.reverse_host}, port "
            f"{pair.reverse_port}. Click “Establish Relationship”, then come back here and click “Verify”."
        )
    context.bump_epoch()
    try:
        answer = context.client(pair.primary).establish_relationship(
            backup_host=pair.backup_host, backup_port=pair.backup_port, reverse_host=pair.reverse_host,
            reverse_port=pair.reverse_port, network_method=pair.network_method,
        )
    except ApplianceRefused as exc:
        raise StepFailed(f"{pair.primary.name} refused to establish the relationship: {exc.detail}") from exc
    return answer.message


def established_now(context: Context) -> str | None:
    return roles_are(context, primary=context.pair.primary, backup=context.pair.backup)


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


@planner(OperationKind.ESTABLISH)
def plan(context: Context) -> list[Step]:
    return [
        Step("establish", "Establish the relationship on the intended primary", establish,
             recheck=established_now, verify=established_now),
        Step("verify_roles", "Check one is primary and the other backup", verify_roles),
        Step("record", "Record the relationship and schedule the first sync", record),
    ]
