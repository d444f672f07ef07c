"""Celery tasks of the failover app: the top layer. Thin wrappers that take ids and call services (services
never import this module: they enqueue by task name through ``portal.queue.enqueue_on_commit``)."""

from datetime import datetime, timedelta

from celery import shared_task
from django.core.cache import cache
from django.db import OperationalError
from django.utils import timezone

from appliances.models import Appliance
from certificates.tasks import RETRY, refresh_served_appliance

from .models import Pair, PairAdoptionImport
from .operations.engine import RunOutcome
from .services.adoption import RUN_ADOPTION_TASK, pairs_adopt_csv_run
from .services.advice import advice_refresh, advice_sweep
from .services.autofailover import autofailovers_evaluate
from .services.certificates import pair_certificates_check
from .services.decisions import ACTING_CODES, DecisionCode
from .services.evacuations import evacuation_advance, evacuations_advance
from .services.operations import (
    RUN_OPERATION_TASK,
    operation_run,
    operations_resume_stale,
    syncs_schedule_due,
)
from .services.probes import (
    claim_lease_seconds,
    claim_lease_until,
    location_queue,
    probe_batch_run,
    probe_batches_by_location,
    probe_batches_claim,
    probe_location_batch_run,
)
from .services.watch import pairs_watch
from .services.windows import drills_start_due


@shared_task(name="failover.probe_dispatch", ignore_result=True)
def probe_dispatch() -> int:
    """Claim the due appliances and hand them to the probe workers in batches (queue ``probes``)."""
    now = timezone.now()
    batches = probe_batches_claim(now=now)
    lease_until = claim_lease_until(now=now)
    plain, by_location = probe_batches_by_location(batches, now=now)
    for ids in plain:
        # A batch not started within the lease is dropped: its appliances are due again and claimed afresh.
        probe_batch.apply_async_on_commit((ids,), {"lease_until": lease_until.isoformat()},
                                          expires=claim_lease_seconds())
    # Appliances with several probe locations: one batch per location, on that location's queue.
    for location, location_batches in by_location.items():
        for ids in location_batches:
            probe_location_batch.apply_async_on_commit((ids, location), queue=location_queue(location),
                                                       expires=claim_lease_seconds())
    return sum(len(ids) for ids in batches)


# Idempotent (probing twice only refreshes the status), so a batch lost with its worker is redone; a batch
# redelivered after its lease ran out finds its appliances re-claimed and leaves them to the newer batch.
@shared_task(name="failover.probe_batch", ignore_result=True, acks_late=True,
             autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def probe_batch(appliance_ids: list[int], lease_until: str | None = None) -> int:
    report = probe_batch_run(appliance_ids=appliance_ids,
                             lease_until=datetime.fromisoformat(lease_until) if lease_until else None)
    _react(report)
    return report.probed


def _react(report) -> None:
    """After a probe batch: a pair that just changed state (e.g. its primary went down) is alerted and the
    failover policy applied now, not at the next beat tick; so is a member answering as primary beside one
    serving as primary, at its first answer, before the up-debounce believes it up (the fencing rule,
    services/fencing.py). Requests collapse into one evaluation (``evaluation_request``)."""
    if report.pair_state_changes:
        watch_pairs.apply_async(expires=60)
    if report.pair_state_changes or report.second_primaries:
        evaluation_request()


# Idempotent like probe_batch (a redelivered batch only records a fresher view).
@shared_task(name="failover.probe_location_batch", ignore_result=True, acks_late=True,
             autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def probe_location_batch(appliance_ids: list[int], location: str) -> int:
    """Probe from this worker's location (its queue ``probes.<location>``); see probing/locations.py."""
    report = probe_location_batch_run(appliance_ids=appliance_ids, location=location)
    _react(report)  # a quorum calling a primary down is acted on at once, as on the single-location path
    return report.probed


@shared_task(name="failover.watch_pairs", ignore_result=True, acks_late=True,
             autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def watch_pairs() -> int:
    """Countdown, recovery and stale-sync emails (deduplicated and throttled by alert_raise)."""
    return pairs_watch(now=timezone.now())


# Two minutes of retries: longer than the pair lock's TTL, so a dead holder's lock has expired by then.
OPERATION_LOCKED_RETRY_SECONDS = 5
OPERATION_LOCKED_MAX_RETRIES = 24


# acks_late + the runner's re-checks: a worker killed mid-operation leaves the message to be redelivered and
# the operation resumable; running it again never repeats a step that is done.
@shared_task(bind=True, name=RUN_OPERATION_TASK, ignore_result=True, acks_late=True,
             autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def run_operation(self, operation_id: int) -> str:
    result = operation_run(operation_id=operation_id)
    if result == RunOutcome.LOCKED:
        # Another runner holds the pair (e.g. the operator confirmed a step while it was finishing a poll):
        # dropping this message would lose the confirmation, and resume skips operations that wait for one.
        raise self.retry(countdown=OPERATION_LOCKED_RETRY_SECONDS, max_retries=OPERATION_LOCKED_MAX_RETRIES)
    return result


@shared_task(name="failover.resume_stale_operations", ignore_result=True)
def resume_stale_operations() -> int:
    """Re-queue operations whose worker stopped heartbeating (crashed or killed)."""
    return len(operations_resume_stale())


@shared_task(name="failover.schedule_syncs", ignore_result=True, acks_late=True,
             autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def schedule_syncs() -> int:
    """Start the syncs that are due per each backup's automatic sync interval (and first syncs)."""
    return len(syncs_schedule_due(now=timezone.now()))


#: A requested evaluation not run within this many seconds is dropped: the beat tick covers it by then.
EVALUATION_EXPIRES = 10


def evaluation_request(*, eta: datetime | None = None) -> bool:
    """Evaluate the failover policy now (or at ``eta``, when a primary timeout runs out), on its own queue
    (``FAILOVER_EVALUATION_QUEUE``); whether a message was sent.
    Requests for the same moment collapse into one message (a mass outage changes thousands of pairs in a few
    probe batches; one evaluation looks at them all), kept in the cache until the evaluation starts."""
    moment = "now" if eta is None else str(int(eta.timestamp()))
    if not cache.add(f"failover:evaluation-requested:{moment}", 1, timeout=EVALUATION_EXPIRES):
        return False
    if eta is None:
        evaluate_auto_failover.apply_async(expires=EVALUATION_EXPIRES)
    else:
        # One second late rather than early: an evaluation a moment before the timeout only says "waiting".
        eta = eta.replace(microsecond=0) + timedelta(seconds=1)
        evaluate_auto_failover.apply_async(eta=eta, expires=eta + timedelta(seconds=EVALUATION_EXPIRES),
                                           kwargs={"moment": moment})
    return True


# Idempotent: a drill's schedule records its start, so a redelivered tick starts nothing new in the period.
@shared_task(name="failover.start_due_drills", ignore_result=True, acks_late=True,
             autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def start_due_drills() -> int:
    """Start the failover drills that are due and allowed now (inside a window, no open alert)."""
    return len(drills_start_due(now=timezone.now()))


@shared_task(name="failover.advance_evacuation", ignore_result=True, acks_late=True,
             autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def advance_evacuation(evacuation_id: int) -> str:
    return str(evacuation_advance(evacuation_id=evacuation_id)["status"])


@shared_task(name="failover.advance_evacuations", ignore_result=True)
def advance_evacuations() -> int:
    """Move every running evacuation on: collect finished switchovers, start the next ones."""
    return evacuations_advance()


# Idempotent: one operation per outage (keyed on the outage's start), so a redelivered tick starts nothing new.
@shared_task(name="failover.evaluate_auto_failover", ignore_result=True, acks_late=True,
             autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def evaluate_auto_failover(moment: str = "now") -> int:
    """Apply the portal's automatic failover policy to every pair whose primary is down (and fence old primaries
    that come back as a second primary); returns how many operations it started. Where a primary's timeout is
    still running, another evaluation is requested for the moment it runs out (not left to the beat tick)."""
    # From here on, a new request must send a new message: this run may already have read the rows.
    cache.delete(f"failover:evaluation-requested:{moment}")
    decisions = autofailovers_evaluate(now=timezone.now())
    due = [decision.due_at for decision in decisions if decision.due_at is not None]
    if due:
        evaluation_request(eta=min(due))
    if any(decision.code == DecisionCode.DEFERRED for decision in decisions):
        evaluation_request()  # the next pass at once, behind whatever else waits for the evaluation worker
    return sum(1 for decision in decisions if decision.code in ACTING_CODES)


# The names stay "certificates.*" (they were the certificates app's): beat's stored schedule and queued messages
# keep working across the move.
@shared_task(name="certificates.refresh_served", ignore_result=True)
def refresh_served() -> dict:
    pairs = Pair.objects.filter(broken_at__isnull=True)
    paired = {i for ids in pairs.values_list("primary_id", "backup_id") for i in ids}
    pair_ids = list(pairs.values_list("pk", flat=True))
    single_ids = list(Appliance.objects.exclude(pk__in=paired).values_list("pk", flat=True))
    for pair_id in pair_ids:
        refresh_served_pair.delay_on_commit(pair_id)
    for appliance_id in single_ids:
        refresh_served_appliance.delay_on_commit(appliance_id)
    return {"pairs": len(pair_ids), "appliances": len(single_ids)}


@shared_task(name="certificates.refresh_served_pair", ignore_result=True, **RETRY)
def refresh_served_pair(pair_id: int) -> bool | None:
    pair = Pair.objects.select_related("organization", "primary__organization", "backup__organization").filter(
        pk=pair_id
    ).first()
    if pair is None:
        return None
    return pair_certificates_check(pair=pair).parity.match


# Idempotent: the service claims a queued adoption once; a redelivered task finds it running or done.
@shared_task(name=RUN_ADOPTION_TASK, acks_late=True)
def run_pair_adoption(job_id: int) -> str:
    job = PairAdoptionImport.objects.select_related("organization", "requested_by").filter(pk=job_id).first()
    if job is None:
        return "gone"
    return pairs_adopt_csv_run(job=job).status


@shared_task(name="failover.refresh_advice", ignore_result=True)
def refresh_advice(pair_ids: list[int]) -> int:
    """Store the findings of pairs created in bulk (see failover.services.pairs.pairs_bulk_create)."""
    return advice_refresh(pair_ids=pair_ids).pairs


@shared_task(name="failover.sweep_advice", ignore_result=True)
def sweep_advice() -> dict:
    """Re-check every pair's stored best-practice findings (see failover.services.advice)."""
    report = advice_sweep()
    return {"pairs": report.pairs, "raised": report.raised, "changed": report.changed, "cleared": report.cleared}
