"""The portal's automatic failover policy: when to promote a pair's standby without an operator.

A pair fails over automatically when all of these hold (each refusal is explained in the decision):

* the pair has ``portal_auto_failover`` on;
* the serving primary has been unreachable from the portal (debounced probes, ``primary_unreachable_since``)
  for at least the standby's primary timeout (its BackupSettings);
* the standby answers the probes, healthy, in the backup role;
* with several probe locations, a quorum of them sees the primary down now (``probing/locations.py``;
  isolated locations are set aside), and the connectivity test IPs answer from one of those locations;
* the standby has connectivity test IPs and at least one answers from the portal (an accepted connection or a
  refusal, ``swing/knock.py``): when the portal itself cannot reach them, the outage may be the portal's own
  network, not the primary; with none configured the portal cannot tell, so it does not act;
* no other operation runs on the pair;
* the standby's *built-in* automatic failover is off. With both on, the appliance and the portal may both act
  on one outage (the vendor warns against mixing them): the portal refuses and says so in an alert.

Then it starts one AUTO_FAILOVER operation per outage (the idempotency key names the outage's start), which
fences the old primary, promotes the standby and swings the traffic (``operations/auto_failover.py``).

An old primary that did not answer during the failover could not be told to step down; when it comes back
still believing it is primary, it is made backup at once. That is not this policy's own rule but the general one
for a second primary after any role change (``fencing.py``), which the evaluation applies after this policy.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef

from appliances.models import FailoverRole
from portal.models import AlertSeverity
from portal.permissions import SYSTEM
from portal.services.alerts import alert_raise

from ..alerts import AlertKind
from ..maintenance_selectors import pair_window_until, with_window_until
from ..models import MEMBERS_WITH_STATUS, Operation, OperationKind, OperationStatus, Pair, PairState
from ..pair_state import (
    FailoverActor,
    failover_actor,
    primary_timeout,
    serving_and_standby,
    settings_of,
)
from ..probing.locations import appliance_verdicts, connectivity_targets
from ..swing.knock import answering
from .decisions import Decision, DecisionCode
from .fencing import second_primaries_fence
from .operations import StartRequest, operations_blocking, operations_start
from .watch import duration

#: At most this many operations (failovers, then fences) started by one evaluation pass; the rest are left to a
#: pass requested at once. A pass starts them together (``operations_start``: one transaction, a constant number
#: of statements), holding their pairs' row locks meanwhile: the cap bounds how long a probe's write of those
#: pairs may wait. (The pass has a worker of its own, ``FAILOVER_EVALUATION_QUEUE``: the probe dispatch never
#: waits behind it.)
STARTS_PER_PASS = 500

def outage_key(pair: Pair) -> str:
    return f"auto-failover:{pair.pk}:{int(pair.primary_unreachable_since.timestamp())}"


def automatic_failover_owner(pair: Pair) -> tuple[FailoverActor, str]:
    """Whose automatic failover would act on this pair's outage (``pair_state.failover_actor``, the rule the
    countdown emails follow too) and a sentence for the pair page. The appliance's is read from the standby's
    backup settings (the portal's copy)."""
    _serving, standby = serving_and_standby(pair.primary, pair.backup)
    standby_settings = settings_of(standby)
    actor = failover_actor(portal_auto_failover=pair.portal_auto_failover, standby_settings=standby_settings)
    timeout = duration(primary_timeout(standby_settings))
    sentences = {
        FailoverActor.BOTH: (f"Both {standby.name}'s own automatic failover and the portal's are on: the portal will "
                             "not act (they could both act on one outage). Turn one off."),
        FailoverActor.APPLIANCE: (f"{standby.name}'s own (built-in) automatic failover: it promotes itself after its "
                                  f"primary timeout ({timeout}) if it cannot reach the primary but reaches its "
                                  "connectivity test IPs."),
        FailoverActor.PORTAL: (f"The portal's: it promotes {standby.name} after its primary timeout ({timeout}), "
                               "fencing the old primary first."),
        FailoverActor.UNKNOWN: (f"Unknown: {standby.name}'s backup settings were never read from it nor declared, so "
                                "whether its own automatic failover is on is not known"
                                + (", and the portal's does not act on them." if pair.portal_auto_failover else ".")),
        FailoverActor.NEITHER: "Neither: nothing fails over unless an operator does it from this page.",
    }
    return actor, sentences[actor]


def autofailover_decide(*, pair: Pair, now: datetime, busy: bool | None = None,
                        answered: set[tuple[str, int]] | None = None, verdicts: dict | None = None) -> Decision:
    """Whether the policy fails this pair over now, and why (not). Reads the pair, its members' latest probe
    status and backup settings; knocks on the standby's connectivity test IPs only when all else says go
    (``answered``: the targets already known to answer, when the caller knocked for many pairs at once).
    ``verdicts``: the members' combined location verdicts (``appliance_verdicts``), when the caller read many
    pairs' at once; else they are read here."""
    def decision(code, reason, due_at=None):
        return Decision(pair.pk, code, reason, due_at=due_at)

    if not pair.portal_auto_failover:
        return decision(DecisionCode.OFF, "Portal automatic failover is off for this pair.")
    window_until = pair_window_until(pair, now=now)
    if window_until is not None:
        return decision(DecisionCode.MAINTENANCE, "Paused: a maintenance window covers the pair or a member until "
                        f"{window_until:%Y-%m-%d %H:%M} UTC.")
    if pair.state != PairState.PRIMARY_UNREACHABLE or pair.primary_unreachable_since is None:
        return decision(DecisionCode.NOT_DOWN, f"The primary is not unreachable (pair state: {pair.get_state_display()}).")
    down, standby = serving_and_standby(pair.primary, pair.backup)
    backup_settings = settings_of(standby)
    # Whose failover acts: the rule the pair page and the countdown emails follow (the portal's is on here).
    actor = failover_actor(portal_auto_failover=True, standby_settings=backup_settings)
    if actor == FailoverActor.UNKNOWN:
        return decision(DecisionCode.UNKNOWN_SETTINGS, (
            f"The backup settings of {standby.name} were never read from it nor declared: the portal does not know "
            "its primary timeout, whether its own automatic failover is on, or its connectivity test IPs, and does "
            f"not assume defaults, so it does not act. Declare them in {standby.name}'s backup settings."))
    if actor == FailoverActor.BOTH:
        return decision(DecisionCode.BUILTIN_ON, (
            f"{standby.name} has its own (built-in) automatic failover on, and the portal's automatic failover is on "
            "too: both could act on the same outage and leave two primaries, so the portal does not act. Turn one "
            f"of them off (the built-in one in {standby.name}'s backup settings, or the portal's on the pair)."))
    timeout = primary_timeout(backup_settings)
    down_for = now - pair.primary_unreachable_since
    if down_for < timeout:
        return decision(DecisionCode.WAITING, f"{down.name} has been unreachable for {duration(down_for)}; automatic failover "
                        f"in {duration(timeout - down_for)} (primary timeout {duration(timeout)}).",
                        due_at=pair.primary_unreachable_since + timeout)
    # With several probe locations, a quorum of them must see the primary down now, and the connectivity test
    # IPs are knocked from the locations (probing/locations.py), not from here.
    if verdicts is None:
        verdicts = appliance_verdicts(pair.members, now=now)
    verdict = verdicts[down.pk]
    evidence = f" Evidence: {down.name} {verdict.describe()}." if verdict is not None else ""
    if verdict is not None and verdict.down is not True:
        return decision(DecisionCode.QUORUM, f"{down.name} is not seen down by a quorum of its probe locations: "
                        f"{verdict.describe()}.")
    if standby.status_reachable is not True:
        return decision(DecisionCode.STANDBY_DOWN, f"{standby.name} (the standby) is unreachable too: "
                        f"{standby.status_error or 'no answer'}.")
    if standby.status_healthy is False or standby.status_role != FailoverRole.BACKUP:
        return decision(DecisionCode.STANDBY_DOWN, f"{standby.name} is not a healthy backup (role {standby.status_role or '?'}"
                        f"{', ' + standby.status_error if standby.status_error else ''}).")
    if busy is None:
        busy = operations_blocking(pair).exists()
    if busy:
        return decision(DecisionCode.BUSY, "Another operation is running on the pair.")
    targets = connectivity_targets(backup_settings)
    if targets and verdict is not None:
        return _connectivity_from_locations(standby, down, verdict, verdicts[standby.pk], targets, decision,
                                            evidence, down_for=down_for, timeout=timeout)
    if not targets:
        return decision(DecisionCode.CONNECTIVITY, f"{standby.name} has no connectivity test IPs: without them the portal "
                        "cannot tell an outage of the primary from one of its own network (two primaries could "
                        f"result), so it does not act. Set them in {standby.name}'s backup settings.")
    if answered is None:
        answered = answering(targets)
    if not answered.intersection(targets):
        ips = ", ".join(ip for ip, _port in targets)
        return decision(DecisionCode.CONNECTIVITY, f"None of {standby.name}'s connectivity test IPs ({ips}) answers "
                        "from the portal: the outage may be the portal's own network, so it does not act.")
    return decision(DecisionCode.GO, f"{down.name} unreachable for {duration(down_for)} (primary timeout {duration(timeout)}); "
                    f"{standby.name} is a healthy backup.")


def _connectivity_from_locations(standby, down, verdict, standby_views, targets, decision, evidence, *, down_for,
                                 timeout):
    """The standby's connectivity test IPs as knocked from the primary's counting locations (each knocks them
    from its own network while the primary is unreachable): one that answers is enough."""
    knocked = {view.location: view.connectivity_ok for view in (standby_views.views if standby_views else ())
               if view.counts}
    counting = [view.location for view in verdict.views if view.counts and view.reachable is False]
    answered = [name for name in counting if knocked.get(name)]
    if not answered:
        ips = ", ".join(ip for ip, _port in targets)
        seen = "; ".join(f"{name}: {'silent' if knocked.get(name) is False else 'not knocked yet'}"
                         for name in counting) or "no location counts"
        return decision(DecisionCode.CONNECTIVITY, f"None of {standby.name}'s connectivity test IPs ({ips}) answers "
                        f"from the locations that see {down.name} down ({seen}): the outage may be their network, "
                        "so the portal does not act.")
    return decision(DecisionCode.GO, f"{down.name} unreachable for {duration(down_for)} (primary timeout "
                    f"{duration(timeout)}); {standby.name} is a healthy backup; connectivity test IPs answer from "
                    f"{', '.join(answered)}.{evidence}")


def _explain_block(pair: Pair, decision: Decision) -> None:
    """Once per outage: tell the organisation why the portal will not fail over."""
    alert_raise(
        organization=pair.organization, kind=AlertKind.AUTO_FAILOVER_BLOCKED, severity=AlertSeverity.WARNING,
        dedup_key=f"failover_blocked:{pair.pk}:{int(pair.primary_unreachable_since.timestamp())}:{decision.code}",
        subject=f"{pair.site_hostname}: the portal will not fail over automatically", scope=pair,
        body=f"Pair {pair.site_hostname} ({pair.organization}).\n\n{decision.reason}\n", throttle=timedelta(days=365),
    )


def _report_unfinished(pair: Pair, operation: Operation) -> None:
    alert_raise(
        organization=pair.organization, kind=AlertKind.FAILOVER_UNFINISHED, severity=AlertSeverity.CRITICAL, scope=pair,
        dedup_key=f"failover_unfinished:{operation.pk}", throttle=timedelta(days=365),
        subject=f"{pair.site_hostname}: automatic failover {operation.status}",
        body=(f"Pair {pair.site_hostname} ({pair.organization}).\n\nThe portal's automatic failover "
              f"{operation.status}: {operation.error}\nIt is not retried for this outage; act from the pair page.\n"),
    )


def autofailover_evaluate(*, pair: Pair, now: datetime) -> Decision:
    """Apply the policy to one pair: start the failover, explain a refusal, or do nothing. Idempotent: one
    operation per outage, whatever happens to it (a failed automatic failover is reported, not retried)."""
    decision = _outage_decision(pair, now=now, existing=outage_operations([pair]).get(pair.pk))
    return _failovers_start([decision], {pair.pk: pair})[0] if decision.go else decision


def _outage_decision(pair: Pair, *, now: datetime, existing: Operation | None, **facts) -> Decision:
    """The policy's decision for one pair ("go": to be started by ``_failovers_start``), a refusal explained.
    ``existing``: the outage's operation or None; ``facts``: what ``autofailover_decide`` may be given."""
    if existing is not None and pair.portal_auto_failover and pair.state == PairState.PRIMARY_UNREACHABLE:
        # This outage has had its failover: nothing left to decide (nor to explain).
        if existing.status in (OperationStatus.FAILED, OperationStatus.CANCELLED):
            _report_unfinished(pair, existing)
        return Decision(pair.pk, DecisionCode.DONE, f"Automatic failover for this outage already {existing.status}.",
                        existing)
    decision = autofailover_decide(pair=pair, now=now, **facts)
    if decision.code in (DecisionCode.BUILTIN_ON, DecisionCode.CONNECTIVITY, DecisionCode.QUORUM):
        _explain_block(pair, decision)
    return decision


def _failovers_start(decisions: list[Decision], pairs: dict[int, Pair]) -> list[Decision]:
    """Start the failovers these "go" decisions call for, together (``operations_start``: one transaction, a
    constant number of statements, and the idempotency key per outage that the database keeps unique, so two
    passes never start two failovers for one outage); what each decision became."""
    outcomes = operations_start(actor=SYSTEM, requests=[
        StartRequest(pairs[d.pair_id], OperationKind.AUTO_FAILOVER, reason=d.reason,
                     idempotency_key=outage_key(pairs[d.pair_id])) for d in decisions])
    return [Decision(d.pair_id, DecisionCode.BUSY, " ".join(outcome.messages))  # the next evaluation looks again
            if isinstance(outcome, ValidationError) else Decision(d.pair_id, DecisionCode.GO, d.reason, outcome)
            for d, outcome in zip(decisions, outcomes, strict=True)]


def outage_operations(pairs: list[Pair]) -> dict[int, Operation]:
    """The automatic failover operation of each pair's current outage, where it has one (one query)."""
    keys = {(pair.organization_id, outage_key(pair)): pair.pk for pair in pairs if pair.primary_unreachable_since}
    if not keys:
        return {}
    operations = Operation.objects.filter(organization_id__in={org for org, _key in keys},
                                          idempotency_key__in={key for _org, key in keys})
    return {keys[(op.organization_id, op.idempotency_key)]: op for op in operations
            if (op.organization_id, op.idempotency_key) in keys}


def autofailovers_evaluate(*, now: datetime) -> list[Decision]:
    """Every pair with portal automatic failover on whose primary is unreachable, then every pair where a second
    primary answers beside the one its current epoch made primary (``fencing.py``; beat, every few seconds, and
    at once when a probe sees either). A constant number of queries whatever the number of pairs: what the
    decisions need is read for all of them at once, and the failovers are started together."""
    pairs = (
        with_window_until(Pair.objects.filter(portal_auto_failover=True, state=PairState.PRIMARY_UNREACHABLE,
                                              primary_unreachable_since__isnull=False), now=now)
        # A step waiting for a person does not hold automatic failover up (starting it closes that step).
        .annotate(busy=Exists(operations_blocking(OuterRef("pk"))))
        .select_related("organization", "primary__backup_settings", "backup__backup_settings", *MEMBERS_WITH_STATUS)
    )
    pairs = list(pairs[:1000])
    # Knock every due pair's connectivity test IPs at once, under one time cap, not one pair after another.
    standby_settings = {pair.pk: settings_of(serving_and_standby(pair.primary, pair.backup)[1]) for pair in pairs}
    due = [pair for pair in pairs if now - pair.primary_unreachable_since >= primary_timeout(standby_settings[pair.pk])]
    answered = answering(target for pair in due if not pair.busy
                         for target in connectivity_targets(standby_settings[pair.pk]))
    existing = outage_operations(pairs)
    verdicts = appliance_verdicts([member for pair in due for member in pair.members], now=now)
    decisions = [_outage_decision(pair, now=now, existing=existing.get(pair.pk), busy=pair.busy,
                                  answered=answered, verdicts=verdicts) for pair in pairs]
    go = [index for index, decision in enumerate(decisions) if decision.go]
    for index in go[STARTS_PER_PASS:]:
        decisions[index] = Decision(decisions[index].pair_id, DecisionCode.DEFERRED, "Left to the next evaluation pass.")
    go = go[:STARTS_PER_PASS]
    started = _failovers_start([decisions[index] for index in go], {pair.pk: pair for pair in pairs})
    for index, decision in zip(go, started, strict=True):
        decisions[index] = decision
    # A second primary after any role change, the portal's own automatic failover included: one rule.
    starts = STARTS_PER_PASS - sum(1 for decision in started if decision.operation is not None)
    decisions += second_primaries_fence(starts=starts)
    return decisions
