"""Fencing a second primary after any role change (docs/automatic-failover.md, "A second primary").

The rule, one for every way the roles change (the operator's Become primary or Become backup, Fix this error,
a runbook's swap, the portal's automatic failover, and a role change made outside the portal that the probes
recorded): the role change that opened the pair's current epoch names the member it made primary
(``operations/survivor.epoch_primary``). When the *other* member answers as primary while that one is seen
serving as primary, the other is made backup: one BECOME_BACKUP operation on it per epoch and member (the
idempotency key), forced (the vendor's force: it becomes backup even when it cannot reach its peer, which is
harmless since the portal sees the peer serving), with an alert saying what was done and on what evidence.

* **Any failover, not only the portal's.** The member that returns as primary is typically an old primary that
  was down when the roles changed and never heard of it. Two primaries are never wanted (with a shared IP, an
  IP conflict), and the recorded decision (whoever made it) says which one serves.
* **Whatever ``portal_auto_failover`` says.** That switch lets the portal *choose* to promote; fencing chooses
  nothing: it carries out the role change someone already made and recorded. An operator who wants both
  primary has no use for a pair.
* **When the portal does not know, it does not guess.** No role change recorded for the current epoch (e.g. a
  pair adopted as it was, or a role change outside the portal that left both answering as primary): the
  decision is "undecided" and the two-primaries alert and Fix this error stay the way out.
* **Maintenance windows pause the automatic failover, not this.** A second primary is never wanted, planned
  work or not. But no fence runs while *any* operation is active on the pair, one waiting for a person
  included: a runbook operating on a member (an upgrade, a repair) is never overridden nor closed by a fence;
  the fence follows once it has ended.
* **At the first answer.** A returning member's first probe answer "primary" is enough (``answers_primary``);
  the probe batch that sees it asks for an evaluation at once (``tasks._react``), without waiting for the
  up-debounce or a beat tick. The member the epoch made primary must be *confirmed* serving: demoting the other
  while that one is not seen serving could leave no primary at all.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q

from appliances.models import FailoverRole
from portal.models import AlertSeverity
from portal.permissions import SYSTEM
from portal.services.alerts import alert_raise

from ..alerts import AlertKind
from ..models import MEMBERS_WITH_STATUS, Operation, OperationKind, OperationStatus, Pair
from ..operations.survivor import epoch_primaries, epoch_primary
from ..pair_state import answers_primary, second_primary, serves_as_primary
from .decisions import Decision, DecisionCode
from .operations import StartRequest, operations_start

#: Pairs looked at per evaluation (two primaries are rare; a mass return after an outage is taken in turns).
BATCH = 1000


def fence_key(pair: Pair, returning) -> str:
    return f"fence:{pair.pk}:{pair.epoch}:{returning.pk}"


def fence_decide(*, pair: Pair, busy: bool, recorded: tuple | None = None) -> tuple[Decision, object | None]:
    """(the decision, the member to make backup when it is "fence"). ``busy``: any operation is active on the
    pair. Reads the members' latest probe status and the epoch's recorded role change (``recorded``: its
    ``epoch_primary``, when the caller read many pairs' at once)."""
    def decision(code, reason):
        return Decision(pair.pk, code, reason)

    if second_primary(pair.primary, pair.backup) is None:
        return decision(DecisionCode.OFF, "No second primary."), None
    if busy:
        return decision(DecisionCode.BUSY, "Two members answer as primary, but an operation is active on the pair: "
                        "nothing is fenced until it has ended."), None
    chosen, how = recorded if recorded is not None else epoch_primary(pair)
    if chosen is None:
        return decision(DecisionCode.UNDECIDED, (
            f"Both {pair.primary.name} and {pair.backup.name} answer as primary, and the portal does not know which "
            f"should be: {how} It does not guess; use Fix this error on the pair page.")), None
    returning = pair.peer_of(chosen)
    if not serves_as_primary(chosen):
        return decision(DecisionCode.OFF, (
            f"{returning.name} answers as primary but {chosen.name}, made primary by the current epoch, is not seen "
            "serving: making it backup could leave no primary.")), None
    if not answers_primary(returning):
        return decision(DecisionCode.OFF, "No second primary."), None
    seen = ("answers as primary" if returning.status_reachable else
            "answers as primary again (its first answers after being unreachable)")
    return decision(DecisionCode.FENCE, (
        f"{returning.name} {seen} beside {chosen.name}, which serves as primary. Whom the current epoch made "
        f"primary: {how} {returning.name} is made backup so that one primary remains.")), returning


def fence_operations(pairs: list[Pair]) -> dict[str, Operation]:
    """The fences already started in these pairs' current epochs, by idempotency key (one query)."""
    keys = {fence_key(pair, member) for pair in pairs for member in pair.members}
    if not keys:
        return {}
    return {operation.idempotency_key: operation for operation in Operation.objects.filter(
        organization_id__in={pair.organization_id for pair in pairs}, idempotency_key__in=keys)}


def _fence_request(pair: Pair, returning, reason: str) -> StartRequest:
    return StartRequest(pair, OperationKind.BECOME_BACKUP, params={"force": True}, reason=reason,
                        idempotency_key=fence_key(pair, returning), appliance=returning)


def _announce(pair: Pair, returning, operation: Operation, reason: str) -> None:
    chosen = pair.peer_of(returning)
    alert_raise(
        organization=pair.organization, kind=AlertKind.SECOND_PRIMARY_FENCED, severity=AlertSeverity.CRITICAL,
        dedup_key=fence_key(pair, returning), scope=pair, target=returning, throttle=timedelta(days=365),
        subject=f"{pair.site_hostname}: second primary {returning.name} being made backup",
        body=(f"Pair {pair.site_hostname} ({pair.organization}).\n\n"
              f"What the portal does: it makes {returning.name} backup ({operation.get_kind_display()} "
              f"#{operation.pk}, forced), and moves the site's traffic to {chosen.name} by "
              f"{pair.get_network_method_display()}. The operation page shows its outcome.\n\n"
              f"Why: {reason}\n\n"
              f"Data written on {returning.name} while it served as a second primary is not on {chosen.name}; the "
              f"next data sync overwrites it.\n"),
    )


def second_primaries_fence(*, starts: int | None = None) -> list[Decision]:
    """Every pair where a member answers as primary beside one serving as primary (part of the failover
    evaluation: beat, and at once when a probe sees one): start the fence and say so, or explain why not.
    Idempotent: one operation per epoch and member, whatever happens to it (a fence that failed is not retried
    for the epoch; the pair's two-primaries alert stays, and Fix this error).

    A constant number of queries, whatever the number of pairs: one finds them, one their fences already
    started, one their epochs' recorded role changes, and the fences are started together
    (``operations_start``); each fence started then raises its alert.
    ``starts``: at most this many fences started (the evaluation pass's share, ``autofailover.STARTS_PER_PASS``);
    the pairs after that are DEFERRED to the next pass."""
    active = Operation.objects.filter(pair=OuterRef("pk"), status__in=OperationStatus.active())
    primary = FailoverRole.PRIMARY
    pairs = (
        Pair.objects.filter(broken_at__isnull=True, primary__status_role=primary, backup__status_role=primary)
        .filter(Q(primary__status_reachable=True) | Q(backup__status_reachable=True))
        .annotate(busy=Exists(active))
        .select_related("organization", *MEMBERS_WITH_STATUS)
        .order_by("pk")[:BATCH]
    )
    pairs = [pair for pair in pairs if second_primary(pair.primary, pair.backup) is not None]
    idle = [pair for pair in pairs if not pair.busy]
    existing, recorded = fence_operations(idle), epoch_primaries(idle)
    decisions, fences = [], []  # fences: (index in decisions, pair, returning)
    for pair in pairs:
        decision, returning = fence_decide(pair=pair, busy=pair.busy, recorded=recorded.get(pair.pk))
        if decision.code == DecisionCode.FENCE:
            done = existing.get(fence_key(pair, returning))
            if done is not None:
                decision = Decision(pair.pk, DecisionCode.DONE, f"{returning.name} already has its fence for this "
                                    f"epoch ({done}, {done.status}).", done)
            elif starts is not None and len(fences) >= starts:
                decision = Decision(pair.pk, DecisionCode.DEFERRED, "Left to the next evaluation pass.")
            else:
                fences.append((len(decisions), pair, returning))
        decisions.append(decision)
    outcomes = operations_start(actor=SYSTEM, requests=[
        _fence_request(pair, returning, decisions[index].reason) for index, pair, returning in fences])
    for (index, pair, returning), outcome in zip(fences, outcomes, strict=True):
        reason = decisions[index].reason
        if isinstance(outcome, ValidationError):  # another operation got there first; the next evaluation looks again
            decisions[index] = Decision(pair.pk, DecisionCode.BUSY, " ".join(outcome.messages))
            continue
        _announce(pair, returning, outcome, reason)
        decisions[index] = Decision(pair.pk, DecisionCode.FENCE, reason, outcome)
    return decisions
