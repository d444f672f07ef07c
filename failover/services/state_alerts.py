"""Alerts for the pair state machine's bad states, and their recovery only when the evidence says so.

Entering a state listed in ``STATE_ALERTS`` raises its alert once per episode (the dedup key names the state
and its since-time) and repeats it at the state's rate. Leaving it raises a CLEARED alert only when the
state's own clearing evidence holds: a pair that moved from "backup unreachable" to "degraded" because a
probe of the serving member failed has not seen its backup come back. The primary's outage (countdown and
"primary reachable again") is handled by ``watch.py`` under the same rule. docs/pair-states.md lists them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.contenttypes.models import ContentType
from django.db.models import OuterRef, Subquery

from portal.models import Alert, AlertSeverity
from portal.services.alerts import alert_raise

from ..alerts import AlertKind
from ..models import Pair, PairState
from ..pair_state import BACKUP, PRIMARY, peer_trouble, serving_and_standby

LOOKBACK = timedelta(days=7)


def _up(member) -> bool:
    return member.status_reachable is True


def _alerted_member(pair: Pair, alert: Alert):
    return pair.primary if alert.target_id == pair.primary_id else pair.backup


def _one_primary(pair: Pair, alert: Alert) -> bool:
    roles = sorted(m.status_role for m in pair.members)
    return all(_up(m) for m in pair.members) and roles == [BACKUP, PRIMARY]


def _someone_primary(pair: Pair, alert: Alert) -> bool:
    return any(_up(m) and m.status_role == PRIMARY for m in pair.members)


def _alerted_member_back(pair: Pair, alert: Alert) -> bool:
    return _up(_alerted_member(pair, alert))


def _peers_in_touch(pair: Pair, alert: Alert) -> bool:
    return all(_up(m) for m in pair.members) and not any(peer_trouble(m) for m in pair.members)


def _healthy_again(pair: Pair, alert: Alert) -> bool:
    return pair.state in (PairState.HEALTHY, PairState.RUNNING_ON_BACKUP)


def _normal_primary_serves(pair: Pair, alert: Alert) -> bool:
    return _up(pair.primary) and pair.primary.status_role == PRIMARY and pair.backup.status_role != PRIMARY


@dataclass(frozen=True)
class StateAlert:
    kind: str
    severity: str
    subject: str  # formatted with site=
    next_step: str
    repeat: timedelta
    cleared: Callable[[Pair, Alert], bool]
    cleared_subject: str
    # Which member the alert is about ("standby" or None for the pair as a whole).
    about_standby: bool = False


STATE_ALERTS: dict[str, StateAlert] = {
    PairState.CONFLICT: StateAlert(
        AlertKind.CONFLICT, AlertSeverity.CRITICAL, "{site}: two primaries",
        "Open the pair and use Fix this error: it shows which appliance holds the traffic and what it will do "
        "before it acts. With a shared IP both appliances enable it now (an IP conflict).",
        timedelta(hours=1), _one_primary, "{site}: one primary again"),
    PairState.CONFLICT_NO_PRIMARY: StateAlert(
        AlertKind.CONFLICT_NO_PRIMARY, AlertSeverity.CRITICAL, "{site}: no primary, nobody serves the site",
        "Open the pair and use Fix this error, or make the appliance that should serve primary.",
        timedelta(hours=1), _someone_primary, "{site}: a primary serves again"),
    PairState.BACKUP_UNREACHABLE: StateAlert(
        AlertKind.BACKUP_DOWN, AlertSeverity.WARNING, "{site}: backup unreachable, no standby",
        "The site is served, but nothing can take over if the primary fails. Bring the backup back.",
        timedelta(hours=6), _alerted_member_back, "{site}: backup reachable again", about_standby=True),
    PairState.PEER_LINK_LOST: StateAlert(
        AlertKind.PEER_LINK_LOST, AlertSeverity.CRITICAL, "{site}: the two appliances cannot reach each other",
        "Data syncs fail. A built-in automatic failover on the backup may promote it: two primaries. Check the "
        "link between them (TCP 443 both ways, the appliance's TCP Connection Test).",
        timedelta(hours=1), _peers_in_touch, "{site}: peer link restored"),
    PairState.BROKEN_OUTSIDE: StateAlert(
        AlertKind.BROKEN_OUTSIDE, AlertSeverity.CRITICAL, "{site}: failover relationship broken outside the portal",
        "An appliance reports no relationship though the portal did not break it. Re-establish it from the "
        "pair page, or record the break there if it was intended.",
        timedelta(hours=6), _one_primary, "{site}: failover relationship back"),
    PairState.DEGRADED: StateAlert(
        AlertKind.DEGRADED, AlertSeverity.WARNING, "{site}: degraded",
        "Look at the pair page for the appliance's error.",
        timedelta(hours=6), _healthy_again, "{site}: no longer degraded"),
    PairState.RUNNING_ON_BACKUP: StateAlert(
        AlertKind.RUNNING_ON_BACKUP, AlertSeverity.INFO, "{site}: running on the normal backup",
        "Avoid /login changes on the backup while it serves: they are lost when it becomes backup again. When the "
        "normal primary is ready, swap back with a sync first.",
        timedelta(days=1), _normal_primary_serves, "{site}: the normal primary serves again"),
}


def _key(pair: Pair) -> str:
    return f"state:{pair.state}:{pair.pk}:{int(pair.state_since.timestamp()) if pair.state_since else 0}"


def state_alert(*, pair: Pair, now: datetime) -> Alert | None:
    spec = STATE_ALERTS[pair.state]
    serving, standby = serving_and_standby(pair.primary, pair.backup)
    since = pair.state_since or now
    body = (f"Pair {pair.site_hostname} ({pair.organization}): {pair.get_state_display().lower()} since "
            f"{since:%Y-%m-%d %H:%M:%S} UTC.\n\nEvidence: {pair.state_reason}\n\nWhat to do: {spec.next_step}\n")
    return alert_raise(organization=pair.organization, kind=spec.kind, severity=spec.severity,
                       dedup_key=_key(pair), subject=spec.subject.format(site=pair.site_hostname), body=body,
                       scope=pair, target=standby if spec.about_standby else None, throttle=spec.repeat)


def cleared_alert(*, pair: Pair, alert: Alert, state: str, now: datetime) -> Alert | None:
    spec = STATE_ALERTS[state]
    body = (f"Pair {pair.site_hostname} ({pair.organization}).\n\nThe condition alerted at "
            f"{alert.created_at:%Y-%m-%d %H:%M:%S} UTC (\"{alert.subject}\") has ended: the probes show it.\n"
            f"Pair state now: {pair.get_state_display()}. {pair.state_reason}\n")
    return alert_raise(organization=pair.organization, kind=AlertKind.CLEARED, severity=AlertSeverity.INFO,
                       dedup_key=f"cleared:{alert.dedup_key}", subject=spec.cleared_subject.format(
                           site=pair.site_hostname), body=body, scope=pair, target=alert.target,
                       throttle=timedelta(days=365))


def state_alerts_watch(*, pairs, now: datetime) -> int:
    """``pairs``: a queryset with members loaded. Raises what is due; returns how many alerts were recorded."""
    raised = 0
    for pair in pairs.filter(state__in=list(STATE_ALERTS)):
        raised += state_alert(pair=pair, now=now) is not None

    by_kind = {spec.kind: state for state, spec in STATE_ALERTS.items()}
    newest = (Alert.objects.filter(scope_type=OuterRef("scope_type"), scope_id=OuterRef("scope_id"),
                                   kind=OuterRef("kind"), created_at__gte=now - LOOKBACK)
              .order_by("-created_at", "-id").values("pk")[:1])
    open_alerts = Alert.objects.filter(kind__in=list(by_kind), created_at__gte=now - LOOKBACK,
                                       scope_type=ContentType.objects.get_for_model(Pair), pk=Subquery(newest))
    cleared_keys = set(Alert.objects.filter(kind=AlertKind.CLEARED, created_at__gte=now - LOOKBACK)
                       .values_list("dedup_key", flat=True))
    pairs_by_id = {}
    for alert in open_alerts:
        if f"cleared:{alert.dedup_key}" in cleared_keys:
            continue
        pair = pairs_by_id.get(alert.scope_id) or pairs.filter(pk=alert.scope_id).first()
        if pair is None:
            continue
        pairs_by_id[pair.pk] = pair
        state = by_kind[alert.kind]
        if pair.state == state or not STATE_ALERTS[state].cleared(pair, alert):
            continue
        raised += cleared_alert(pair=pair, alert=alert, state=state, now=now) is not None
    return raised
