"""Fix this error: which member should be primary when both claim the same role. One rule, used by the preview
the operator confirms and by the operation that then acts (which re-checks it).

The criteria, in order; the first that singles out one member decides (docs/fix-this-error.md):

1. Who holds the traffic now: the pair's network method read back (the shared IP enabled on one member only,
   the DNS answer for the site name, the NAT mapping), then the site name's DNS answer.
2. Whom the portal made primary last: its latest successful role change on the pair (become primary/backup,
   fix this error, automatic failover), or a newer change made outside it (the appliance's own failover, a
   click in /login) that the probes recorded (``Pair.last_outside_change``).
3. Newest data: the member that served without interruption for longer; the other's data stops where its
   service was interrupted (it was unreachable or not primary later, per the probes' history).
4. The normal roles.

Why this order: observation from the demo. The primary died, the operator promoted the backup, the old primary
came back still primary. Both had the shared IP enabled, DNS said nothing, and "the normal primary" won: the
stale appliance was synced over the one that had served the outage. The portal's own record settles that case.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q
from django.utils.dateparse import parse_datetime

from ..models import Operation, OperationKind, OperationStatus, StatusChange
from ..pair_state import builtin_failover_on, settings_of
from ..swing import SwingError, driver_for
from .engine import MADE_PRIMARY_KEY

ROLE_CHANGING_KINDS = (OperationKind.BECOME_PRIMARY, OperationKind.BECOME_BACKUP, OperationKind.FIX_CONFLICT,
                       OperationKind.AUTO_FAILOVER)


@dataclass(frozen=True)
class Finding:
    criterion: str
    finding: str
    decides: bool = False


@dataclass
class SurvivorDecision:
    winner: object
    loser: object
    conflict: str  # "primary" (both primary) or "backup" (both backup)
    findings: list[Finding] = field(default_factory=list)

    @property
    def decided_by(self) -> str:
        return next(f.criterion for f in self.findings if f.decides)

    def reasoning(self) -> list[str]:
        return [f"{f.criterion}: {f.finding}" for f in self.findings]

    def consequences(self) -> list[str]:
        out = [f"{self.winner.name} becomes (or stays) primary and {self.loser.name} backup.",
               f"{self.loser.name}'s /login configuration is overwritten by {self.winner.name}'s in the data sync "
               "that follows (failover settings excepted). A configuration backup of it is downloaded first.",
               "Sessions and recordings made on the member that becomes backup since the last sync are not carried "
               "over: the appliance API has no merge."]
        if builtin_failover_on(settings_of(self.loser)):
            out.append(f"{self.loser.name}'s own (built-in) automatic failover is on: if, as backup, it cannot reach "
                       f"{self.winner.name}, it promotes itself again after its primary timeout. Turn it off on "
                       f"{self.loser.name} first, or fix the link between them.")
        return out


def made_primary(operation, pair):
    """The member ``operation``'s role change left primary, or None when it names none. Recorded with its epoch
    bump (``MADE_PRIMARY_KEY``); an operation recorded before that was kept is read by its kind."""
    result = operation.result or {}
    if MADE_PRIMARY_KEY in result:
        chosen = result[MADE_PRIMARY_KEY]
    else:
        chosen = {
            OperationKind.BECOME_PRIMARY: operation.appliance_id,
            OperationKind.BECOME_BACKUP: (pair.backup_id if operation.appliance_id == pair.primary_id
                                          else pair.primary_id) if operation.appliance_id else None,
            OperationKind.FIX_CONFLICT: result.get("winner"),
            OperationKind.AUTO_FAILOVER: result.get("new_primary"),
        }.get(operation.kind)
    return next((m for m in pair.members if m.pk == chosen), None)


def _recorded_role_changes():
    """Successful operations that changed (or set) the roles: the role-changing kinds, and any operation that
    bumped the epoch naming who it made primary (a runbook's swaps, an establish)."""
    return Operation.objects.filter(status=OperationStatus.SUCCEEDED).filter(
        Q(kind__in=ROLE_CHANGING_KINDS) | Q(result__has_key=MADE_PRIMARY_KEY))


def _portal_evidence(operation, member) -> str:
    return (f"{operation.get_kind_display()} #{operation.pk} at {operation.finished_at:%Y-%m-%d %H:%M:%S} UTC left "
            f"{member.name} primary (epoch {operation.epoch}).")


def _outside_evidence(outside: dict, at, member) -> str:
    return (f"a role change outside the portal, seen by the probes at {at:%Y-%m-%d %H:%M:%S} UTC, left "
            f"{member.name} primary (epoch {outside.get('epoch')}).")


def last_portal_primary(pair):
    """(member, operation) the portal's latest successful role change left as primary, or (None, None)."""
    operation = _recorded_role_changes().filter(pair=pair).order_by("-finished_at", "-id").first()
    if operation is None:
        return None, None
    return made_primary(operation, pair), operation


def last_recorded_primary(pair) -> tuple[object | None, str]:
    """The member the latest recorded role change left primary (the portal's own, or one made outside it and
    seen by the probes, whichever is newer), and how that is known."""
    member, operation = last_portal_primary(pair)
    outside = pair.last_outside_change or {}
    outside_at = parse_datetime(outside["at"]) if outside.get("at") else None
    if outside_at and outside.get("primary") and (operation is None or operation.finished_at < outside_at):
        chosen = next((m for m in pair.members if m.pk == outside["primary"]), None)
        if chosen is not None:
            return chosen, _outside_evidence(outside, outside_at, chosen)
    if member is None:
        return None, ""
    return member, _portal_evidence(operation, member)


def epoch_primary(pair) -> tuple[object | None, str]:
    """Whom the role change that opened the pair's *current* epoch made primary, and how that is known; (None,
    why) when no role change recorded for this epoch names one. Unlike ``last_recorded_primary`` (Fix this error
    weighs an older record against other evidence), only the current epoch counts: a record of an earlier epoch
    was overtaken by whatever changed the roles since, and the portal does not guess (services/fencing.py)."""
    return epoch_primaries([pair])[pair.pk]


def epoch_primaries(pairs) -> dict[int, tuple[object | None, str]]:
    """pk -> ``epoch_primary`` of each pair, their recorded role changes read in one query (the failover
    evaluation looks at every pair with two primaries at once)."""
    pairs = list(pairs)
    if not pairs:
        return {}
    current = Q()
    for pair in pairs:
        current |= Q(pair_id=pair.pk, epoch=pair.epoch)
    # The latest of each pair's current epoch (DISTINCT ON keeps the first row of each pair in this order).
    latest = {operation.pair_id: operation for operation in _recorded_role_changes().filter(current)
              .order_by("pair_id", "-finished_at", "-id").distinct("pair_id")}
    return {pair.pk: _epoch_primary(pair, latest.get(pair.pk)) for pair in pairs}


def _epoch_primary(pair, operation) -> tuple[object | None, str]:
    """``epoch_primary`` given the latest recorded role change of the pair's current epoch (or None)."""
    outside = pair.last_outside_change or {}
    outside_at = parse_datetime(outside["at"]) if outside.get("at") else None
    if outside_at and outside.get("epoch") == pair.epoch and (operation is None or operation.finished_at < outside_at):
        chosen = next((m for m in pair.members if m.pk == outside.get("primary")), None)
        if chosen is None:
            return None, (f"the role change outside the portal that opened epoch {pair.epoch} (seen by the probes at "
                          f"{outside_at:%Y-%m-%d %H:%M:%S} UTC) left both members answering as primary.")
        return chosen, _outside_evidence(outside, outside_at, chosen)
    chosen = made_primary(operation, pair) if operation is not None else None
    if chosen is None:
        return None, f"no role change recorded for the pair's current epoch ({pair.epoch}) names a primary."
    return chosen, _portal_evidence(operation, chosen)


def last_interruption(appliance):
    """When the probes last saw this member not serving: unreachable, or in another role than primary."""
    change = (StatusChange.objects.filter(appliance=appliance).filter(Q(reachable=False) | ~Q(role="primary"))
              .order_by("-at", "-id").first())
    return change.at if change else None


def traffic_holder(pair) -> tuple[object | None, str]:
    """The member the pair's network method sends the site's traffic to now, and what was read."""
    try:
        member = driver_for(pair).currently_serving(pair)
    except SwingError as exc:
        return None, str(exc)
    method = pair.get_network_method_display()
    if member is None:
        return None, f"{method}: the reading reaches neither member."
    peer = pair.peer_of(member)
    detail = {
        "shared_ip": f"{member.name} has the shared IP {pair.shared_ip} enabled; {peer.name} does not.",
        "dns_swing": f"{pair.site_hostname} resolves to {member.name} at the pair's DNS server {pair.dns_server}.",
        "nat_swing": f"the NAT device maps {pair.nat_public_address}:{pair.nat_public_port} to {member.name}.",
    }.get(pair.network_method, f"{method}: the reading reaches {member.name}.")
    return member, detail


def decide_survivor(pair, *, conflict: str, holder=None, holder_detail: str = "",
                    dns_member=None, dns_detail: str = "") -> SurvivorDecision:
    members = pair.members
    findings: list[Finding] = []

    def decided(winner, criterion, finding):
        findings.append(Finding(criterion, finding, decides=True))
        return SurvivorDecision(winner, pair.peer_of(winner), conflict, findings)

    if holder is not None:
        return decided(holder, "Who holds the traffic", holder_detail)
    findings.append(Finding("Who holds the traffic", holder_detail or "not known"))
    if dns_member is not None:
        return decided(dns_member, "Where the site name resolves", dns_detail)
    if dns_detail:
        findings.append(Finding("Where the site name resolves", dns_detail))

    member, how = last_recorded_primary(pair)
    if member is not None:
        return decided(member, "Whom the portal made primary last", how)
    findings.append(Finding("Whom the portal made primary last", "no role change is recorded on this pair"))

    interruptions = {m.pk: last_interruption(m) for m in members}
    first, second = members
    a, b = interruptions[first.pk], interruptions[second.pk]
    if a != b:
        # The one whose service was interrupted earlier (or never) has served longer since: it has the newer data.
        longer = first if (a is None or (b is not None and a < b)) else second
        other = pair.peer_of(longer)
        when = interruptions[other.pk]
        return decided(longer, "Newest data", f"{other.name} stopped serving at {when:%Y-%m-%d %H:%M:%S} UTC (down "
                       f"or not primary); {longer.name} has served without interruption for longer.")
    findings.append(Finding("Newest data", "the probes' history does not tell them apart"))
    return decided(pair.primary, "Normal roles", f"{pair.primary.name} is the normal primary.")
