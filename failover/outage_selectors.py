"""The outage panel: for a pair in a bad state, what happened and since when, what data is at risk, and what to do
next, with the actions in the order the vendor's procedure needs them. Read-only (a selector); the pair page and
its live status fragment render it.

The advice follows the vendor's guide: bringing the primary back is often quicker and has less impact than
failing over; fail over as a last resort; swing DNS or NAT once the roles swap (the portal's role changes do it,
or guide it, themselves); a backup serving as primary should not take /login changes (they are lost when it
becomes backup again).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.urls import reverse

from .models import Pair, PairState, SyncRecord, SyncResult
from .pair_state import Countdown, serving_and_standby, settings_of
from .services.autofailover import automatic_failover_owner
from .services.watch import duration
from .sync_history import sync_succeeded

OUTAGE_STATES = (PairState.PRIMARY_UNREACHABLE, PairState.CONFLICT, PairState.CONFLICT_NO_PRIMARY,
                 PairState.BACKUP_UNREACHABLE, PairState.PEER_LINK_LOST, PairState.BROKEN_OUTSIDE,
                 PairState.RUNNING_ON_BACKUP)


@dataclass(frozen=True)
class Action:
    label: str
    url: str  # a page or an anchor on the pair page where the form is
    detail: str = ""
    danger: bool = False


@dataclass
class OutagePanel:
    headline: str
    since: datetime | None
    happened: str
    data_at_risk: str
    next_step: str
    automatic_failover: str
    actions: list[Action] = field(default_factory=list)


def last_good_sync(pair: Pair) -> datetime | None:
    """The end of the latest successful data sync the portal recorded, else the time the members report (when
    their last sync status says it succeeded)."""
    record = (SyncRecord.objects.filter(pair=pair, result=SyncResult.SUCCEEDED, finished_at__isnull=False)
              .order_by("-finished_at").values_list("finished_at", flat=True).first())
    reported = [m.status_last_sync_at for m in pair.members if m.status_last_sync_at and
                sync_succeeded(m.status_last_sync_status)]
    candidates = [t for t in (record, max(reported) if reported else None) if t]
    return max(candidates) if candidates else None


def _risk(pair: Pair, serving, standby, now: datetime) -> str:
    synced = last_good_sync(pair)
    if synced is None:
        return (f"No successful data sync is recorded: {standby.name} may hold none of {serving.name}'s sessions, "
                "recordings or /login settings.")
    age = duration(now - synced)
    return (f"Last good data sync {age} ago ({synced:%Y-%m-%d %H:%M} UTC). Everything {serving.name} took since "
            f"then (session data, recordings, /login changes) is not on {standby.name}: {age} of changes are at "
            "risk if you fail over now.")


def _member_action(pair, appliance, label, detail, *, danger=False) -> Action:
    return Action(label, f"{reverse('failover:pair', args=[pair.pk])}#member-{appliance.pk}", detail, danger)


def pair_outage_panel(*, pair: Pair, now: datetime) -> OutagePanel | None:
    """None when the pair is not in a state that needs an operator's decision."""
    if pair.state not in OUTAGE_STATES:
        return None
    serving, standby = serving_and_standby(pair.primary, pair.backup)
    owner = automatic_failover_owner(pair)[1]
    since = pair.primary_unreachable_since if pair.state == PairState.PRIMARY_UNREACHABLE else pair.state_since
    fix = Action("Fix this error…", reverse("failover:pair_fix_conflict", args=[pair.pk]),
                 "Shows which member it keeps primary and why, and what will happen, before anything changes.")
    swing = ("" if pair.network_method == "shared_ip" else
             f" The role change then swings {pair.get_network_method_display()} to it (or tells you the exact record "
             "to change where the portal has no access).")

    if pair.state == PairState.PRIMARY_UNREACHABLE:
        countdown = Countdown.of(since=since or now, now=now, backup_settings=settings_of(standby),
                                 portal_auto_failover=pair.portal_auto_failover)
        happened = (f"{serving.name} (primary) has not answered since {since:%H:%M:%S} UTC (its first failed probe), "
                    f"{duration(countdown.down_for)} ago: {serving.status_error or 'no answer'}.")
        if countdown.failover_in is not None:
            happened += f" Automatic failover in {duration(countdown.failover_in)}."
        return OutagePanel(
            "Primary unreachable", since, happened, _risk(pair, serving, standby, now),
            f"1. Bring {serving.name} back if you can: it is often quicker and has less impact than failing over. "
            f"2. Fail over only as a last resort: make {standby.name} primary.{swing} "
            f"3. When {serving.name} is back, swap back with a data sync first.",
            owner,
            [Action(f"Check {serving.name}", reverse("failover:appliance_status", args=[serving.pk]),
                    "Its probe history and last error."),
             _member_action(pair, standby, f"Make {standby.name} primary (last resort)",
                            "Data since the last good sync stays on the old primary.", danger=True)])
    if pair.state in (PairState.CONFLICT, PairState.CONFLICT_NO_PRIMARY):
        what = "Both appliances report the primary role" if pair.state == PairState.CONFLICT else \
            "Both appliances report the backup role: nobody serves the site"
        return OutagePanel(
            pair.get_state_display(), since, f"{what} since {since:%H:%M:%S} UTC.",
            "Each member may have taken changes since they split; the one made backup has its /login configuration "
            "overwritten by the other's (a configuration backup of it is kept first).",
            "Use Fix this error: it decides by who holds the traffic, whom the portal made primary last, newest "
            "data, then the normal roles, and shows you before acting.", owner, [fix])
    if pair.state == PairState.BACKUP_UNREACHABLE:
        return OutagePanel(
            "Backup unreachable", since, f"{standby.name} (backup) has not answered since {since:%H:%M:%S} UTC: "
            f"{standby.status_error or 'no answer'}.",
            f"None now: {serving.name} serves. But nothing can take over if it fails, and no sync reaches "
            f"{standby.name}.", f"Bring {standby.name} back; check it did not come back as primary.", owner,
            [Action(f"Check {standby.name}", reverse("failover:appliance_status", args=[standby.pk]))])
    if pair.state == PairState.PEER_LINK_LOST:
        return OutagePanel(
            "Peer link lost", since, f"Both appliances answer the portal but not each other ({pair.state_reason})",
            _risk(pair, serving, standby, now),
            "Restore the link between them (TCP 443 both ways: the appliance's TCP Connection Test). If the backup's "
            "own automatic failover is on it may promote itself: two primaries. A role change now needs force.",
            owner, [Action("Sync now", f"{reverse('failover:pair', args=[pair.pk])}#pair-actions",
                           "Proves the link once it is back.")])
    if pair.state == PairState.BROKEN_OUTSIDE:
        return OutagePanel(
            "Broken outside the portal", since, pair.state_reason, _risk(pair, serving, standby, now),
            "Re-establish the relationship from this page, or break it here too if it was intended.", owner,
            [Action("Establish relationship", reverse("failover:pair_establish", args=[pair.pk]))])
    return OutagePanel(
        "Running on the normal backup", since, f"{serving.name}, the normal backup, serves since {since:%H:%M:%S} UTC.",
        f"Do not change /login settings on {serving.name}: they are lost when it becomes backup again (note them, "
        "or download a configuration backup).",
        f"When {standby.name} is ready: make it primary with a data sync first (users are disconnected during the "
        f"sync).{swing}", owner,
        [_member_action(pair, standby, f"Make {standby.name} primary again", "With 'pull a data sync first'.")])
