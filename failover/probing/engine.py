"""The probe path: load a batch of appliances in one query, probe them concurrently on one pycurl multi
handle (``appliances.drivers.probe_many``), apply the anti-flap rules, and write back in bulk.

Writes per batch, whatever its size: one UPDATE of the appliances' narrow per-probe rows, one of the appliance
rows whose shown status changed (``status_rows.py``), one INSERT for the status-history rows (only appliances
whose confirmed view changed), one UPDATE of the pairs whose derived state changed and one INSERT for their
history. A 10,000-appliance sweep in steady state therefore writes 10,000 narrow rows (HOT updates) and nothing
else.

OAuth tokens live in the driver's process-local cache (``default_token_cache``): each worker process
fetches one token per appliance and reuses it until shortly before it expires. With several worker
processes an appliance may hold one token per process, far below the appliance's cap of 30 per account.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from appliances.connect import probe_credentials, probe_target, probing_client
from appliances.drivers import ApplianceError, PlainHealth, ProbeResult, TokenCache, probe_many
from appliances.models import Appliance, ApplianceProbeStatus
from portal import metrics

from ..advisor import appliance_facts
from ..models import StatusChange
from ..services.advice import advice_refresh
from .dispatch import claim_lease_seconds
from .pairs import refresh_pair_states
from .status_rows import appliance_status, write_statuses
from .syncs import record_observed_syncs
from .transitions import (
    Thresholds,
    Transition,
    apply_failure,
    apply_plain_health,
    apply_success,
    reported_guid,
)


@dataclass
class SweepReport:
    probed: int = 0
    #: Appliance rows written: those whose shown status changed (every probe writes its narrow row).
    appliances_written: int = 0
    succeeded: int = 0
    failed: int = 0
    status_changes: int = 0
    pairs_written: int = 0
    pair_state_changes: int = 0
    #: Pairs seen with a member answering as primary beside one serving as primary (``PairRefresh``).
    second_primaries: int = 0
    probe_seconds: float = 0.0
    write_seconds: float = 0.0
    errors: dict[int, str] = field(default_factory=dict)

    @property
    def rows_written(self) -> int:
        return (self.probed + self.appliances_written + self.status_changes + self.pairs_written
                + self.pair_state_changes)

    def merge(self, other: SweepReport) -> None:
        for name in ("probed", "appliances_written", "succeeded", "failed", "status_changes", "pairs_written",
                     "pair_state_changes", "second_primaries", "probe_seconds", "write_seconds"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors.update(other.errors)


def probe_appliances(
    appliance_ids: Sequence[int],
    *,
    concurrency: int | None = None,
    token_cache: TokenCache | None = None,
    thresholds: Thresholds | None = None,
    lease_until: datetime | None = None,
) -> SweepReport:
    """Probe these appliances now and record the outcome. Never raises for an appliance's misbehaviour:
    every failure ends up as that appliance's recorded error.

    ``lease_until``: the claim this batch works for (``dispatch.claim_lease_until``). Only the appliances whose
    ``next_probe_at`` still equals it are probed and written; the others were re-claimed after the lease ran
    out (or already recorded) and belong to another batch."""
    report = SweepReport()
    ids = list(appliance_ids)
    appliances = Appliance.objects.select_related("organization", "probe_status").filter(pk__in=ids)
    if lease_until is not None:
        appliances = appliances.filter(probe_status__next_probe_at=lease_until)
    appliances = list(appliances.order_by("pk"))
    if not appliances:
        return report
    thresholds = thresholds or Thresholds.from_settings()
    concurrency = concurrency or settings.PROBE_CONCURRENCY

    started = time.perf_counter()
    sent_at = timezone.now()  # when these probes went out: a first failure dates the outage from here
    outcomes = _probe(appliances, concurrency=concurrency, token_cache=token_cache,
                      source_address=settings.PROBE_SOURCE_ADDRESS or None)
    report.probe_seconds = time.perf_counter() - started
    _count_probes(outcomes)

    started = time.perf_counter()
    now = timezone.now()
    # When these probes were due: the claim wrote its lease over next_probe_at, so the claim time stands in.
    scheduled_at = lease_until - timedelta(seconds=claim_lease_seconds()) if lease_until is not None else None
    history, guids_to_learn, synced, versions = [], [], [], []
    facts_before = {appliance.pk: appliance_facts(appliance) for appliance in appliances}
    shown_before = {appliance.pk: appliance_status(appliance) for appliance in appliances}
    for appliance in appliances:
        outcome = outcomes[appliance.pk]
        previous_sync = appliance.status_last_sync_at
        transition = apply_outcome(appliance, outcome, appliance_id=appliance.pk, now=now, thresholds=thresholds,
                                   scheduled_at=scheduled_at, sent_at=sent_at, report=report)
        if appliance.status_last_sync_at and appliance.status_last_sync_at != previous_sync:
            synced.append((appliance.pk, appliance.status_last_sync_at, appliance.status_last_sync_status))
        # status_successes is 0 when the answer was not this appliance's (wrong id): nothing of it is learnt.
        learn_from_answer(appliance, outcome, versions=versions, guids=guids_to_learn,
                          believed=bool(appliance.status_successes))
        if transition is not None:
            history.append(status_change(appliance, transition, at=now))
    with transaction.atomic():
        if lease_until is not None:
            # Probing took time: keep only the rows still under this batch's lease, locked until written (the
            # narrow rows: the claim locks the same ones).
            still = set(ApplianceProbeStatus.objects.select_for_update().filter(
                appliance_id__in=ids, next_probe_at=lease_until).values_list("pk", flat=True))
            appliances = [a for a in appliances if a.pk in still]
            history = [change for change in history if change.appliance.pk in still]
            report.errors = {pk: error for pk, error in report.errors.items() if pk in still}
        report.appliances_written = write_statuses(appliances, before=shown_before)
        StatusChange.objects.bulk_create(history)
        report.pairs_written, report.pair_state_changes, report.second_primaries = refresh_pair_states(
            appliance_ids=[a.pk for a in appliances], now=now, known={a.pk: a for a in appliances}
        )
        written = {a.pk for a in appliances}
        record_observed_syncs([seen for seen in synced if seen[0] in written])
    write_learnt(guids=[g for g in guids_to_learn if g[0].pk in written], versions=[v for v in versions if v[0] in written],
                 facts_changed=[a.pk for a in appliances if appliance_facts(a) != facts_before[a.pk]])
    report.write_seconds = time.perf_counter() - started
    report.probed = len(appliances)
    report.status_changes = len(history)
    return report


def apply_outcome(target, outcome, *, appliance_id: int, now: datetime, thresholds: Thresholds,
                  report: SweepReport, scheduled_at: datetime | None = None,
                  sent_at: datetime | None = None) -> Transition | None:
    """One probe outcome onto ``target``: an appliance row, or one location's view of it (the same status
    columns), so both probe paths read an answer, a plain ``/check_health`` page and a failure the same way.
    ``sent_at``: when the probe went out (a first failure dates the outage from it; default ``now``)."""
    if isinstance(outcome, PlainHealth):
        report.succeeded += 1
        return apply_plain_health(target, outcome, now=now, thresholds=thresholds, scheduled_at=scheduled_at)
    if isinstance(outcome, ProbeResult) and outcome.ok:
        report.succeeded += 1
        return apply_success(target, outcome, now=now, thresholds=thresholds, scheduled_at=scheduled_at)
    report.failed += 1
    message = outcome if isinstance(outcome, str) else str(outcome.error)
    report.errors[appliance_id] = message
    return apply_failure(target, message, now=now, thresholds=thresholds, scheduled_at=scheduled_at,
                         sent_at=sent_at)


def status_change(appliance: Appliance, transition: Transition, *, at: datetime) -> StatusChange:
    """The status-history row of a transition of the appliance's confirmed view (unsaved: written in bulk)."""
    return StatusChange(
        organization_id=appliance.organization_id, appliance=appliance, at=at, reachable=appliance.status_reachable,
        healthy=appliance.status_healthy, role=appliance.status_role,
        last_sync_status=appliance.status_last_sync_status, error=appliance.status_error, summary=transition.summary,
    )


def learn_from_answer(appliance: Appliance, outcome, *, versions: list, guids: list, believed: bool = True) -> None:
    """What an API answer teaches the inventory: the reported version/build and the appliance id. Only a
    well-formed id is learnt (an appliance's answer is untrusted; the column holds 32 hex); ``believed`` is False
    when the answer was not this appliance's (a wrong id), and then nothing of it is learnt."""
    if not (isinstance(outcome, ProbeResult) and outcome.ok) or not believed:
        return
    reported = reported_software(outcome.health)
    if reported != (appliance.product_version, appliance.build):
        versions.append((appliance.pk, *reported))
    guid = reported_guid(outcome.health)
    if not appliance.appliance_guid and guid:
        guids.append((appliance, guid))


def write_learnt(*, guids: list, versions: list, facts_changed: Sequence[int] = ()) -> None:
    """``facts_changed``: appliances whose probe changed a column the advice rules read (shared IPs, version)."""
    for appliance, guid in guids:
        _learn_guid(appliance, guid)
    for pk, version, build in versions:
        # Rare (first probe, upgrades): one small update each, outside the batch's transaction.
        Appliance.objects.filter(pk=pk).update(product_version=version, build=build)
    changed = {*facts_changed, *(pk for pk, _version, _build in versions)}
    if changed:
        # Rare too (an upgrade, a shared IP moving): the pairs' stored findings follow the new readings.
        advice_refresh(appliance_ids=changed)


def _count_probes(outcomes: dict) -> None:
    """Probe counts and latencies for /metrics: one Redis round trip per outcome per batch."""
    for outcome in ("ok", "failed"):
        latencies = [r.elapsed_ms / 1000 for r in outcomes.values()
                     if isinstance(r, ProbeResult) and r.ok == (outcome == "ok")]
        if latencies:
            metrics.PROBE_SECONDS.observe_many(latencies, outcome=outcome)
        count = len(latencies) + (sum(isinstance(r, str) for r in outcomes.values()) if outcome == "failed" else 0)
        if count:
            metrics.PROBES.inc(count, outcome=outcome)


def _probe(appliances: list[Appliance], *, concurrency: int, token_cache: TokenCache | None,
           source_address: str | None = None) -> dict:
    """pk -> ProbeResult, or an error string for an appliance that could not even be attempted."""
    outcomes: dict[int, ProbeResult | PlainHealth | str] = {}
    by_timeout = defaultdict(list)
    plain = [appliance for appliance in appliances if probe_credentials(appliance) is None]
    if plain:
        outcomes.update(_probe_plain(plain))
    for appliance in appliances:
        if appliance.pk in outcomes:
            continue
        try:
            by_timeout[appliance.probe_timeout].append(probe_target(appliance))
        except ValueError as exc:
            outcomes[appliance.pk] = str(exc)
    # One multi run per timeout value (usually just the default): the whole probe of an appliance, token
    # fetch included, is bounded by its own timeout.
    for timeout, targets in by_timeout.items():
        for result in probe_many(targets, concurrency=concurrency, timeout=float(timeout), token_cache=token_cache,
                                 source_address=source_address):
            outcomes[result.target.ref] = result
    return outcomes


#: Appliances without an API account probed at once through /check_health (rare: most have an account).
PLAIN_PROBE_CONCURRENCY = 8


def _plain_one(client) -> PlainHealth | str:
    try:
        return client.plain_check_health()
    except ApplianceError as exc:
        return str(exc)


def _probe_plain(appliances: list[Appliance]) -> dict:
    """pk -> PlainHealth or an error string, for appliances the portal has no API account for."""
    clients, outcomes = {}, {}
    for appliance in appliances:
        try:
            clients[appliance.pk] = probing_client(appliance)  # no account: only /check_health answers it
        except ValueError as exc:
            outcomes[appliance.pk] = str(exc)
    with ThreadPoolExecutor(max_workers=min(PLAIN_PROBE_CONCURRENCY, max(1, len(clients))),
                            thread_name_prefix="plain-probe") as pool:
        futures = {pk: pool.submit(_plain_one, client) for pk, client in clients.items()}
        outcomes.update({pk: future.result() for pk, future in futures.items()})
    return outcomes


def reported_software(health) -> tuple[str, str]:
    """Version and build as the inventory keeps them (every health answer carries them; the answer is untrusted,
    so they are cut to the columns' sizes)."""
    return (health.version or "")[:32], (health.build or "")[:64]


def _learn_guid(appliance: Appliance, guid: str) -> None:
    """Fill in the appliance id an operator left empty, unless another appliance of the organisation has it."""
    try:
        with transaction.atomic():
            Appliance.objects.filter(pk=appliance.pk, appliance_guid="").update(appliance_guid=guid)
    except IntegrityError:
        pass
