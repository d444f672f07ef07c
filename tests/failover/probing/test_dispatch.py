"""Claiming due appliances: only what is due, most overdue first, and never twice."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from appliances.models import Appliance
from failover.models import PairState
from failover.services.probes import claim_lease_until, probe_batch_run, probe_batches_claim
from failover.tasks import probe_batch, probe_dispatch
from tests.factories import ApplianceFactory, OrganizationFactory, appliance_status_set

pytestmark = pytest.mark.django_db(transaction=True)


def test_claims_only_due_appliances_in_batches(db):
    now = timezone.now()
    org = OrganizationFactory()
    due = [ApplianceFactory(organization=org) for _ in range(5)]
    appliance_status_set(Appliance.objects.filter(pk__in=[a.pk for a in due[:2]]), next_probe_at=now - timedelta(seconds=30))
    later = ApplianceFactory(organization=org)
    appliance_status_set(later, next_probe_at=now + timedelta(seconds=30))

    batches = probe_batches_claim(now=now, batch_size=2)

    assert sorted(i for batch in batches for i in batch) == sorted(a.pk for a in due)
    assert [len(b) for b in batches] == [2, 2, 1]
    assert probe_batches_claim(now=now) == []  # leased: not due again until the batch sets next_probe_at


def test_two_dispatchers_never_claim_the_same_appliance(db):
    org = OrganizationFactory()
    ApplianceFactory.create_batch(60, organization=org)
    now = timezone.now()
    claimed: list[list[int]] = []
    barrier = threading.Barrier(4)

    def dispatcher():
        barrier.wait()
        try:
            claimed.append([i for b in probe_batches_claim(now=now, limit=25) for i in b])
        finally:
            connection.close()

    threads = [threading.Thread(target=dispatcher) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [i for ids in claimed for i in ids]
    assert len(everything) == len(set(everything)) == 60


def dispatcher_tick(now) -> list[int]:
    """One dispatcher tick at ``now``: claim what is due and probe it through the real batch path, as the probe
    worker does with the claim's lease."""
    ids = sorted(i for batch in probe_batches_claim(now=now) for i in batch)
    if ids:
        probe_batch_run(appliance_ids=ids, lease_until=claim_lease_until(now=now))
    return ids


def test_an_interval_of_one_tick_is_probed_at_every_tick_and_an_outage_confirmed_in_three(fleet, settings):
    """Issue 16: an interval of 5 s probed every 10 s, and each anti-flap re-check waited a tick more, because
    the next probe was counted from when the result was written and a tick that ran a little earlier in its
    5 s than the previous one found nothing due. Beat's ticks here are 5 s apart; the dispatch task runs
    0.1-0.3 s after its tick, as it does under load."""
    settings.PROBE_FAILURES_TO_DOWN = 3
    settings.PROBE_CONFIRM_INTERVAL = 10  # longer than the interval: the interval bounds the re-check
    pair = fleet.pairs[0]
    everyone = sorted(a.pk for a in fleet.appliances.values())
    Appliance.objects.update(probe_interval=5)
    fleet.probe()  # every member believed up
    appliance_status_set(Appliance.objects.all(), next_probe_at=None)
    fleet.sim.set_fault(pair.primary.management_host, "down")
    first = timezone.now()
    ticks = [first, first + timedelta(seconds=4.8), first + timedelta(seconds=10.1)]

    assert dispatcher_tick(ticks[0]) == everyone
    pair.backup.refresh_from_db()
    # Counted from when the probe was due (the claim), not from when its result was written.
    assert pair.backup.next_probe_at == ticks[0] + timedelta(seconds=5)
    assert [dispatcher_tick(t) for t in ticks[1:]] == [everyone, everyone]
    pair.refresh_from_db()
    assert pair.state == PairState.PRIMARY_UNREACHABLE, pair.state_reason


def test_probe_batch_task_records_a_result(fleet):
    appliance = fleet.pairs[0].primary
    assert probe_batch([appliance.pk]) == 1
    appliance.refresh_from_db()
    assert appliance.status_reachable is True
    assert appliance.next_probe_at > timezone.now() + timedelta(seconds=appliance.probe_interval - 5)


def test_probe_batches_go_to_the_probes_queue_the_dispatch_to_ticks_and_the_evaluation_to_its_own():
    from portal.celery import app

    def queue(name):
        return app.amqp.router.route({}, name)["queue"].name

    assert queue("failover.probe_batch") == "probes"
    # Never behind a probe batch or an operation: the dispatcher (detection). Issue 16: nor behind an evaluation
    # pass starting a mass outage's failovers (detection took up to 66 s at 1,000 pairs when they shared "ticks"),
    # nor behind the pair watcher raising 1,000 pairs' alerts (it held the dispatch up for minutes).
    assert queue("failover.probe_dispatch") == "ticks"
    # The evaluation never behind an operation.
    assert queue("failover.evaluate_auto_failover") == "evaluations"
    for name in ("failover.run_operation", "failover.watch_pairs"):
        assert queue(name) == "celery"


def test_batch_whose_lease_was_taken_over_does_nothing(fleet):
    ids = sorted(a.pk for a in fleet.appliances.values())
    first_claim = timezone.now()
    assert sorted(i for b in probe_batches_claim(now=first_claim) for i in b) == ids
    stale_lease = claim_lease_until(now=first_claim)
    # The first batch's message sat unacknowledged past its lease; the next dispatcher claimed them again.
    second_claim = stale_lease + timedelta(seconds=1)
    assert sorted(i for b in probe_batches_claim(now=second_claim) for i in b) == ids
    fresh_lease = claim_lease_until(now=second_claim)

    assert probe_batch(ids, lease_until=stale_lease.isoformat()) == 0  # redelivered late: leaves them alone
    rows = Appliance.objects.filter(pk__in=ids)
    assert {a.next_probe_at for a in rows} == {fresh_lease}
    assert {a.status_checked_at for a in rows} == {None}

    assert probe_batch(ids, lease_until=fresh_lease.isoformat()) == len(ids)
    assert all(a.status_reachable is True and a.next_probe_at < fresh_lease for a in rows.all())
    # Redelivered once more after it was done: the rows no longer hold that lease either.
    checked = {a.pk: a.status_checked_at for a in rows.all()}
    assert probe_batch(ids, lease_until=fresh_lease.isoformat()) == 0
    assert {a.pk: a.status_checked_at for a in rows.all()} == checked


def test_rows_reclaimed_while_the_batch_probed_are_not_written(fleet, settings):
    """The lease ran out while the batch was still probing (a hanging appliance): its result is dropped for the
    appliance re-claimed meanwhile, the newer batch's record stands."""
    settings.PROBE_CLAIM_LEASE_SECONDS = 1
    slow, other = fleet.pairs[0].primary, fleet.pairs[0].backup
    Appliance.objects.filter(pk=slow.pk).update(probe_timeout=2)
    fleet.sim.set_fault(slow.management_host, "hang")
    claimed_at = timezone.now()
    probe_batches_claim(now=claimed_at)
    lease = claim_lease_until(now=claimed_at)
    taken_over = threading.Event()

    def next_dispatcher():
        try:
            # Re-claims just the slow one once the lease has run out (the other is written by then or not).
            time.sleep(1.3)
            appliance_status_set(slow, next_probe_at=timezone.now() + timedelta(minutes=5))
            taken_over.set()
        finally:
            connection.close()

    thread = threading.Thread(target=next_dispatcher)
    thread.start()
    try:
        assert probe_batch([slow.pk, other.pk], lease_until=lease.isoformat()) == 1
    finally:
        thread.join()
    assert taken_over.is_set()
    slow.refresh_from_db()
    other.refresh_from_db()
    assert slow.status_checked_at is None and slow.next_probe_at > lease
    assert other.status_reachable is True


def test_dispatch_hands_each_batch_its_lease(fleet):
    """The dispatcher's batches carry the claim's lease and run (here in-process: eager mode)."""
    from celery import current_app

    ids = [a.pk for a in fleet.appliances.values()]
    current_app.conf.task_always_eager = True
    try:
        assert probe_dispatch() == len(ids)
    finally:
        current_app.conf.task_always_eager = False
    rows = Appliance.objects.filter(pk__in=ids)
    assert all(a.status_reachable is True for a in rows)
