"""Probe locations: which locations probe an appliance, what each one saw, and the combined verdict.

An appliance probed only from ``local`` (every appliance until locations are assigned) takes the plain path
(``engine.probe_appliances``): its status row is its one location's view. An appliance with other locations
is probed by every one of them (``probe_location_batch`` on each location's queue); each location keeps its own
debounced view (``LocationStatus``, same anti-flap rules), and the appliance row holds the combined verdict:

* **down** when a quorum of its locations (majority, or the organisation's N) sees it down;
* otherwise **up** when any location sees it up (what it reports is copied from the freshest such view);
* otherwise unchanged (not enough evidence either way).

Isolated locations and views older than ``PROBE_LOCATION_STALE_SECONDS`` take no part. The quorum counts all
the appliance's locations, so set-aside ones can only make "down" harder to reach, never easier. The status
history therefore records transitions of the combined verdict, and a primary counts as unreachable (pair
state, countdown, automatic failover) only on a quorum's word.

A location is **isolated** when it cannot reach any of its own reference targets, or when every appliance of a
batch (at least ``PROBE_ISOLATION_MIN_APPLIANCES``) fails at once (judged over all its fresh views): then it is more likely the location's network
than the appliances. Its views are still recorded (and shown), never counted, and an alert says so.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from appliances.models import Appliance
from portal.bulk import bulk_update_rows
from portal.db import without_database
from portal.models import AlertSeverity, Organization
from portal.services.alerts import alert_raise

from ..advisor import appliance_facts
from ..alerts import AlertKind
from ..models import (
    LOCAL_LOCATION,
    MEMBERS_WITH_STATUS,
    ApplianceProbeLocations,
    LocationStatus,
    Pair,
    PairState,
    ProbeLocation,
    ProbeSettings,
    StatusChange,
)
from ..pair_state import serving_and_standby, settings_of
from ..swing.knock import answering
from .engine import (
    SweepReport,
    _count_probes,
    _probe,
    apply_outcome,
    learn_from_answer,
    status_change,
    write_learnt,
)
from .pairs import refresh_pair_states
from .status_rows import appliance_status, write_statuses
from .syncs import record_observed_syncs
from .transitions import (
    STATUS_FIELDS,
    Thresholds,
    _confirmed,
    _transition,
)

#: Columns of a location's view written per probe (the appliance's status columns, plus the knock result).
LOCATION_FIELDS = [*STATUS_FIELDS, "connectivity_ok", "connectivity_checked_at", "claimed_until"]
#: What the combined verdict copies from the location that sees the appliance up.
ANSWER_FIELDS = ["status_checked_at", "status_reachable", "status_healthy", "status_latency_ms", "status_role",
                 "status_version", "status_shared_ips", "status_last_sync_at", "status_last_sync_status",
                 "status_error", "status_failing_since"]


def continuity_gap(appliance: Appliance) -> timedelta:
    """The longest time between two failed probes of one location that still counts as one unbroken failure: two
    probe intervals and the probe's own timeout (a probe that ran late, plus one tick's slack)."""
    return timedelta(seconds=2 * appliance.probe_interval + appliance.probe_timeout)


def location_queue(location: str) -> str:
    """The Celery queue a location's probe workers consume (``local``: the plain probes queue)."""
    return settings.PROBE_QUEUE if location == LOCAL_LOCATION else f"{settings.PROBE_QUEUE}.{location}"


def quorum_required(*, locations: int, quorum: int | None) -> int:
    """How many locations must see a primary down: the organisation's N (at most all of them), else a majority."""
    if locations <= 0:
        return 1
    return min(quorum, locations) if quorum else locations // 2 + 1


def locations_of(appliances: Iterable[Appliance]) -> dict[int, tuple[str, ...]]:
    """pk -> the locations that probe it: its own override, else its organisation's default, else ``local``."""
    appliances = list(appliances)
    overrides = dict(ApplianceProbeLocations.objects.filter(appliance__in=appliances)
                     .values_list("appliance_id", "locations"))
    defaults = dict(ProbeSettings.objects.filter(organization_id__in={a.organization_id for a in appliances})
                    .values_list("organization_id", "locations"))
    result = {}
    for appliance in appliances:
        names = overrides.get(appliance.pk) or defaults.get(appliance.organization_id) or [LOCAL_LOCATION]
        result[appliance.pk] = tuple(dict.fromkeys(names))
    return result


def split_by_location(appliance_ids: Sequence[int]) -> tuple[list[int], dict[str, list[int]]]:
    """(ids probed from ``local`` alone: the plain path, {location: ids} for the others). One cheap query when no
    organisation has assigned locations (every install until someone does)."""
    ids = list(appliance_ids)
    if not ids or not (ProbeSettings.objects.exists() or ApplianceProbeLocations.objects.exists()):
        return ids, {}
    plain, by_location = [], defaultdict(list)
    appliances = Appliance.objects.filter(pk__in=ids).only("pk", "organization_id")
    for pk, names in locations_of(appliances).items():
        if is_local_only(names):
            plain.append(pk)
        else:
            for name in names:
                by_location[name].append(pk)
    return sorted(plain), dict(by_location)


def claim_for_locations(by_location: dict[str, list[int]], *, now: datetime, lease_until: datetime
                        ) -> dict[str, list[int]]:
    """Of the appliances due per location, those the location is not still busy with, claimed for it until
    ``lease_until``. The appliance comes due again when its *fastest* location asks for the next probe; without
    this, a location slower than that (its workers few, killed or behind a slow network) would be sent it again
    and again, its queue would grow past what it can probe before the batches expire, and its views would go
    stale: the quorum would then miss a location that works. A claim ends with the location's report, or with the
    lease when its batch was lost (worker killed, batch expired). A location that never probed the appliance has
    no row yet: it is sent the appliance unclaimed (the first report creates the row)."""
    claimed = {}
    for location, ids in by_location.items():
        busy = set(LocationStatus.objects.filter(location=location, appliance_id__in=ids, claimed_until__gt=now)
                   .values_list("appliance_id", flat=True))
        free = [pk for pk in ids if pk not in busy]
        if free:
            LocationStatus.objects.filter(location=location, appliance_id__in=free).update(claimed_until=lease_until)
            claimed[location] = free
    return claimed


def is_local_only(locations: Sequence[str]) -> bool:
    return tuple(locations) == (LOCAL_LOCATION,)


def location_catalogue() -> list[tuple[str, str]]:
    """(name, label) of every location an organisation may choose: ``local`` first, then the platform's."""
    rows = ProbeLocation.objects.exclude(name=LOCAL_LOCATION).values_list("name", "description")
    return [(LOCAL_LOCATION, f"{LOCAL_LOCATION} (the portal's own probe workers)"),
            *((name, f"{name} ({description})" if description else name) for name, description in rows)]


def isolated_locations() -> dict[str, str]:
    """name -> why, for every location currently isolated."""
    return dict(ProbeLocation.objects.filter(isolated_since__isnull=False).values_list("name", "isolation_reason"))


def connectivity_targets(backup_settings) -> list[tuple[str, int]]:
    """(ip, port) knocked for the standby's connectivity test IPs; any answer, even a refusal, proves the path."""
    port = int(settings.FAILOVER_CONNECTIVITY_TEST_PORT)
    return [(str(ip), port) for ip in (backup_settings.connectivity_test_ips or [])] if backup_settings else []


# -- the combined verdict -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LocationView:
    """One location's evidence about one appliance, as the decision and the pages show it."""

    location: str
    reachable: bool | None
    error: str = ""
    isolated: str = ""  # why, when the location is isolated
    stale: bool = False  # no fresh view (its workers are not reporting)
    connectivity_ok: bool | None = None
    failing_since: datetime | None = None  # this location's first failed probe of the current failure
    checked_at: datetime | None = None  # its latest probe (when it sees it up: the appliance answered then)

    @property
    def counts(self) -> bool:
        return not self.isolated and not self.stale and self.reachable is not None

    def describe(self) -> str:
        if self.isolated:
            return f"{self.location}: isolated ({self.isolated}), set aside"
        if self.stale:
            return f"{self.location}: no recent result"
        if self.reachable is None:
            return f"{self.location}: not checked yet"
        return f"{self.location}: {'up' if self.reachable else 'down (' + (self.error or 'no answer')[:60] + ')'}"


@dataclass(frozen=True)
class Verdict:
    views: tuple[LocationView, ...]
    required: int
    source: LocationStatus | None = None  # the freshest location view that sees it up

    @property
    def down_count(self) -> int:
        return sum(1 for view in self.views if view.counts and view.reachable is False)

    @property
    def up_count(self) -> int:
        return sum(1 for view in self.views if view.counts and view.reachable is True)

    @property
    def down(self) -> bool | None:
        """True: a quorum sees it down; False: not a quorum, and some location sees it up; None: undecided."""
        if self.down_count >= self.required:
            return True
        return False if self.up_count else None

    @property
    def failing_since(self) -> datetime | None:
        """The outage's start, as the pair state counts it: the *latest* first failure among the locations that
        see it down, and never before a location that sees it up last saw it answer. A location's first failure
        follows its last answer, so the latest one is the last answer any of them saw; an earlier one may be a
        location that did not probe the appliance while it was briefly back and still counts its old failure,
        and the primary timeout would then run from an outage that had ended (bench/chaos.py found failovers
        8.5 s into a 12 s timeout that way). Cost: a real outage counts from the last location to notice it, at
        most one probe interval after the first."""
        starts = [view.failing_since for view in self.views
                  if view.counts and view.reachable is False and view.failing_since is not None]
        if len(starts) < self.required:
            return None
        answered = [view.checked_at for view in self.views
                    if view.counts and view.reachable is True and view.checked_at is not None]
        return max([*starts, *answered])

    def describe(self) -> str:
        head = f"seen down from {self.down_count} of {len(self.views)} locations (quorum {self.required})"
        return f"{head}: " + "; ".join(view.describe() for view in self.views)


def combine(*, locations: Sequence[str], statuses: Iterable[LocationStatus], isolated: dict[str, str],
            quorum: int | None, now: datetime) -> Verdict:
    by_location = {status.location: status for status in statuses}
    stale_before = now - timedelta(seconds=settings.PROBE_LOCATION_STALE_SECONDS)
    views, fresh_up = [], []
    for name in locations:
        status = by_location.get(name)
        if status is None:
            views.append(LocationView(name, None, isolated=isolated.get(name, "")))
            continue
        stale = status.status_checked_at is None or status.status_checked_at < stale_before
        view = LocationView(name, status.status_reachable, status.status_error, isolated.get(name, ""), stale,
                            status.connectivity_ok, status.status_failing_since, status.status_checked_at)
        views.append(view)
        if view.counts and view.reachable:
            fresh_up.append(status)
    source = max(fresh_up, key=lambda s: s.status_checked_at) if fresh_up else None
    return Verdict(tuple(views), quorum_required(locations=len(locations), quorum=quorum), source)


def appliance_verdict(appliance: Appliance, *, now: datetime | None = None) -> Verdict | None:
    """The combined verdict for one appliance with several locations (None: probed from ``local`` alone)."""
    return appliance_verdicts([appliance], now=now)[appliance.pk]


def appliance_verdicts(appliances: Iterable[Appliance], *, now: datetime | None = None) -> dict[int, Verdict | None]:
    """pk -> ``appliance_verdict`` of each, in a few queries whatever their number (the failover evaluation reads
    every pair of a mass outage)."""
    appliances = list(appliances)
    locations = locations_of(appliances)
    several = [appliance for appliance in appliances if not is_local_only(locations[appliance.pk])]
    verdicts: dict[int, Verdict | None] = {appliance.pk: None for appliance in appliances}
    if not several:
        return verdicts
    quorums = dict(ProbeSettings.objects.filter(organization_id__in={a.organization_id for a in several})
                   .values_list("organization_id", "quorum"))
    statuses = defaultdict(list)
    for status in LocationStatus.objects.filter(appliance__in=several):
        statuses[status.appliance_id].append(status)
    isolated, now = isolated_locations(), now or timezone.now()
    for appliance in several:
        verdicts[appliance.pk] = combine(locations=locations[appliance.pk], statuses=statuses[appliance.pk],
                                         isolated=isolated, quorum=quorums.get(appliance.organization_id), now=now)
    return verdicts


def appliance_location_panel(appliance: Appliance) -> dict:
    """What the appliance page shows: each location's latest view and the combined verdict."""
    locations = locations_of([appliance])[appliance.pk]
    statuses = {s.location: s for s in LocationStatus.objects.filter(appliance=appliance)}
    quorum = ProbeSettings.objects.filter(organization_id=appliance.organization_id).values_list(
        "quorum", flat=True).first()
    isolated = isolated_locations()
    verdict = None if is_local_only(locations) else combine(
        locations=locations, statuses=statuses.values(), isolated=isolated, quorum=quorum, now=timezone.now())
    stale = {view.location for view in verdict.views if view.stale} if verdict else set()
    rows = [{"location": name, "status": statuses.get(name), "isolated": isolated.get(name, ""), "stale": name in stale}
            for name in locations]
    overridden = ApplianceProbeLocations.objects.filter(appliance=appliance).exists()
    return {"appliance": appliance, "local_only": verdict is None, "rows": rows, "verdict": verdict,
            "overridden": overridden, "stale_seconds": settings.PROBE_LOCATION_STALE_SECONDS}


def apply_verdict(appliance: Appliance, verdict: Verdict, *, now: datetime):
    """Set the appliance's status columns from the combined verdict; the Transition (None: nothing changed)."""
    before = _confirmed(appliance)
    down = verdict.down
    if down is True:
        appliance.status_checked_at = now
        appliance.status_latency_ms = None
        if appliance.status_reachable is not False:
            appliance.status_healthy = None
            appliance.status_failing_since = verdict.failing_since or now
        elif verdict.failing_since and verdict.failing_since > (appliance.status_failing_since or verdict.failing_since):
            # Still down, but a location saw it answer since the outage began (a quorum still calls it down
            # from older failures): the outage starts again from there. Never earlier: a view dropping out (stale,
            # isolated) is no evidence that it was down for longer.
            appliance.status_failing_since = verdict.failing_since
        appliance.status_reachable = False
        # A location that saw it answer since the outage began: it answers again, not believed up while a quorum
        # still counts it down, and the role it answers is taken, as on the single-location path (an old primary
        # back as primary is fenced at its first answer, not once a quorum has probed it again: bench/chaos.py
        # saw two primaries serve for tens of seconds). Any other answer does not count: a count left over from
        # an answer before the outage would read as "answering again" (pair_state.answers_primary) and fence a
        # member that is still away.
        source = verdict.source
        answering = (source is not None and appliance.status_failing_since is not None
                     and source.status_checked_at >= appliance.status_failing_since)
        appliance.status_successes = 1 if answering else 0
        if answering:
            appliance.status_role = source.status_role
        appliance.status_error = verdict.describe()[:500]
        # Only the first line of evidence goes into the history (the error wording is no new event when down).
        if before[0] is False:
            return None
    elif down is False:
        for name in ANSWER_FIELDS:
            setattr(appliance, name, getattr(verdict.source, name))
    else:
        return None
    return _transition(before, appliance)


# -- one location's batch ---------------------------------------------------------------------------------------

def _location_row(name: str) -> ProbeLocation:
    return ProbeLocation.objects.get_or_create(name=name)[0]


def _reference_silent(location: ProbeLocation, source: str | None) -> str:
    """Why the location cannot trust its own network ("" when it can, or has no reference targets)."""
    targets = []
    for text in location.reference_targets or []:
        host, _sep, port = str(text).rpartition(":")
        if host and port.isdigit():
            targets.append((host, int(port)))
    if not targets or answering(targets, source=source):
        return ""
    return f"none of its reference targets answers ({', '.join(f'{h}:{p}' for h, p in targets)})"


def _all_down(location: str, *, failed_now: set[int], now: datetime) -> str | None:
    """Why the location is isolated when everything it probes is down at once ("" when something answers it,
    None when too few appliances to tell). Judged over all its fresh views, not this batch alone: a batch is
    biased towards failing appliances (an unconfirmed failure is probed again sooner), so a small batch of
    really failing appliances must not look like the location's own outage."""
    fresh = now - timedelta(seconds=settings.PROBE_LOCATION_STALE_SECONDS)
    others = (LocationStatus.objects.filter(location=location, status_checked_at__gte=fresh)
              .exclude(appliance_id__in=failed_now).values_list("status_failures", flat=True))
    seen = len(failed_now) + len(others)
    if any(failures == 0 for failures in others):
        return ""
    if seen < max(1, settings.PROBE_ISOLATION_MIN_APPLIANCES):
        return None
    return f"all {seen} appliances it probes failed at once"


def _mark_isolation(location: ProbeLocation, reason: str | None, *, now: datetime, organizations: set[int]) -> None:
    """Record the location's isolation state ("": not isolated, None: no evidence either way); alert each
    affected organisation when it becomes isolated."""
    location.last_report_at = now
    if reason and not location.isolated:
        location.isolated_since, location.isolation_reason = now, reason[:300]
        for organization in Organization.objects.filter(pk__in=organizations):
            alert_raise(
                organization=organization, kind=AlertKind.LOCATION_ISOLATED, severity=AlertSeverity.WARNING,
                dedup_key=f"location_isolated:{location.name}:{int(now.timestamp())}", throttle=timedelta(hours=1),
                subject=f"Probe location {location.name} is isolated",
                body=(f"Probe location {location.name} is isolated: {reason}.\n\nIts results are set aside: it "
                      "cannot call any appliance down and never triggers an automatic failover. Check the "
                      f"network of the hosts running its probe workers (queue {location_queue(location.name)}).\n"),
            )
    elif reason == "" and location.isolated:
        location.isolated_since, location.isolation_reason = None, ""
    location.save(update_fields=["isolated_since", "isolation_reason", "last_report_at"])


def _knock_connectivity(appliances: list[Appliance], statuses: dict[int, LocationStatus], *, source: str | None,
                        now: datetime) -> None:
    """From this location, knock the connectivity test IPs of every standby in the batch whose pair has its
    primary unreachable and the portal's automatic failover on (the only time they are needed)."""
    ids = [a.pk for a in appliances]
    pairs = (Pair.objects.filter(portal_auto_failover=True, state=PairState.PRIMARY_UNREACHABLE)
             .filter(Q(primary_id__in=ids) | Q(backup_id__in=ids))
             .select_related("primary__backup_settings", "backup__backup_settings", *MEMBERS_WITH_STATUS))
    wanted = {}
    for pair in pairs:
        standby = serving_and_standby(pair.primary, pair.backup)[1]
        if standby.pk in statuses:
            wanted[standby.pk] = connectivity_targets(settings_of(standby))
    if not wanted:
        return
    answered = answering([t for targets in wanted.values() for t in targets], source=source)
    for pk, targets in wanted.items():
        statuses[pk].connectivity_ok = bool(targets) and bool(answered.intersection(targets))
        statuses[pk].connectivity_checked_at = now


def probe_location_batch(appliance_ids: Sequence[int], *, location: str, concurrency: int | None = None,
                         source_address: str | None = None) -> SweepReport:
    """Probe these appliances from ``location`` (this worker), record the location's view, and recompute each
    appliance's combined verdict and its pairs. ``source_address``: the local address probes leave from."""
    report = SweepReport()
    appliances = list(Appliance.objects.filter(pk__in=list(appliance_ids)).order_by("pk"))
    if not appliances:
        return report
    source = source_address if source_address is not None else (settings.PROBE_SOURCE_ADDRESS or None)
    thresholds = Thresholds.from_settings()
    row = _location_row(location)
    isolation = _reference_silent(row, source)

    sent_at = timezone.now()
    # Seconds of network with the database connection given back: bench/chaos.py found batches whose connection
    # was dropped while they probed fail at their write, be retried (probing again) and expire, so a location
    # went 20-30 s without a word on an appliance and the quorum lacked it during real outages.
    outcomes = without_database(lambda: _probe(appliances, concurrency=concurrency or settings.PROBE_CONCURRENCY,
                                               token_cache=None, source_address=source))
    _count_probes(outcomes)
    record = {"location": location, "isolation": isolation, "source": source, "thresholds": thresholds,
              "sent_at": sent_at}
    try:
        return _record(appliances, outcomes, row=row, **record)
    except OperationalError:
        # The connection was dropped while the results were written (bench/chaos.py: a database restart or a
        # pooler cut): write them once more on a new one rather than fail the batch, whose retry would probe
        # everything again (seconds in which the location says nothing). The write is one transaction, so the
        # failed attempt left nothing half done; the location's row is read again (its isolation may not be).
        if connection.in_atomic_block:
            raise
        connection.close()
    return _record(appliances, outcomes, row=_location_row(location), **record)


def _record(appliances: list[Appliance], outcomes: dict, *, location: str, row: ProbeLocation, isolation: str,
            source: str | None, thresholds: Thresholds, sent_at: datetime) -> SweepReport:
    """Record one location's probe outcomes: its views, its isolation, the connectivity knocks, then the combined
    verdicts and the pairs (``combine_and_write``)."""
    report = SweepReport()
    now = timezone.now()
    existing = {s.appliance_id: s for s in LocationStatus.objects.filter(appliance__in=appliances, location=location)}
    statuses, guids, versions = {}, [], []
    for appliance in appliances:
        status = existing.get(appliance.pk) or LocationStatus(
            organization_id=appliance.organization_id, appliance=appliance, location=location)
        # Read by the anti-flap rules, which work on anything with the status columns.
        status.probe_interval, status.appliance_guid = appliance.probe_interval, appliance.appliance_guid
        if status.status_failing_since is not None and status.status_checked_at is not None \
                and sent_at - status.status_checked_at > continuity_gap(appliance):
            # This location has not probed it for longer than it takes to notice a return: whether it answered
            # meanwhile is unknown, so its failure streak is not counted across the gap and its outage starts
            # again at this probe. bench/chaos.py: locations that probed a crashed primary every 15-20 s missed
            # its 6 s return between two crashes, and the portal failed it over 7-11 s into the second.
            status.status_failing_since = None
        outcome = outcomes[appliance.pk]
        apply_outcome(status, outcome, appliance_id=appliance.pk, now=now, thresholds=thresholds, report=report,
                      sent_at=sent_at)
        status.claimed_until = None  # reported: the location may be sent it again (claim_for_locations)
        learn_from_answer(appliance, outcome, versions=versions, guids=guids, believed=bool(status.status_successes))
        statuses[appliance.pk] = status
    # A plain /check_health answer is an answer: only appliances that did not answer count towards "all down".
    if not isolation and report.failed == len(appliances):
        isolation = _all_down(location, failed_now={a.pk for a in appliances}, now=now)
    _mark_isolation(row, isolation, now=now, organizations={a.organization_id for a in appliances})
    _knock_connectivity(appliances, statuses, source=source, now=now)

    with transaction.atomic():
        LocationStatus.objects.bulk_create([s for s in statuses.values() if s.pk is None],
                                           update_conflicts=True, update_fields=LOCATION_FIELDS,
                                           unique_fields=["organization", "appliance", "location"])
        bulk_update_rows(LocationStatus, [s for s in statuses.values() if s.pk is not None], LOCATION_FIELDS)
        history, facts_changed = combine_and_write(appliance_ids=[a.pk for a in appliances], now=now,
                                                   next_probe={pk: s.next_probe_at for pk, s in statuses.items()},
                                                   report=report)
    write_learnt(guids=guids, versions=versions, facts_changed=facts_changed)
    report.probed = len(appliances)
    report.status_changes = history
    return report


def combine_and_write(*, appliance_ids: Sequence[int], now: datetime, next_probe: dict[int, datetime] | None = None,
                      report: SweepReport | None = None) -> tuple[int, list[int]]:
    """Recompute the combined verdict of these appliances from every location's view (locked, so two locations'
    batches of one appliance take turns), write it, a history row per transition, and their pairs' state.
    Returns the number of history rows and the appliances whose advice facts changed (``write_learnt`` takes
    them). Runs inside the caller's transaction."""
    appliances = list(Appliance.objects.select_for_update(of=("self",)).select_related("probe_status")
                      .filter(pk__in=list(appliance_ids)).order_by("pk"))
    locations = locations_of(appliances)
    quorums = dict(ProbeSettings.objects.filter(organization_id__in={a.organization_id for a in appliances})
                   .values_list("organization_id", "quorum"))
    views = defaultdict(list)
    for status in LocationStatus.objects.filter(appliance__in=appliances):
        views[status.appliance_id].append(status)
    isolated = isolated_locations()
    history = []
    synced = []
    facts_before = {appliance.pk: appliance_facts(appliance) for appliance in appliances}
    shown_before = {appliance.pk: appliance_status(appliance) for appliance in appliances}
    for appliance in appliances:
        verdict = combine(locations=locations[appliance.pk], statuses=views[appliance.pk], isolated=isolated,
                          quorum=quorums.get(appliance.organization_id), now=now)
        previous_sync = appliance.status_last_sync_at
        transition = apply_verdict(appliance, verdict, now=now)
        if appliance.status_last_sync_at and appliance.status_last_sync_at != previous_sync:
            synced.append((appliance.pk, appliance.status_last_sync_at, appliance.status_last_sync_status))
        ours = (next_probe or {}).get(appliance.pk)
        if ours is not None:
            # The earliest next probe any location asked for (a confirming location wants one soon), but never
            # back into the past: a location still probing would otherwise make it due again at once.
            current = appliance.next_probe_at
            appliance.next_probe_at = ours if current is None or current <= now else min(current, ours)
        if transition is not None:
            history.append(status_change(appliance, transition, at=now))
    appliances_written = write_statuses(appliances, before=shown_before)
    StatusChange.objects.bulk_create(history)
    refreshed = refresh_pair_states(appliance_ids=[a.pk for a in appliances], now=now,
                                    known={a.pk: a for a in appliances})
    record_observed_syncs(synced)  # the same sync history as the single-location path
    if report is not None:
        report.appliances_written = appliances_written
        report.pairs_written, report.pair_state_changes, report.second_primaries = refreshed
    return len(history), [a.pk for a in appliances if appliance_facts(a) != facts_before[a.pk]]
