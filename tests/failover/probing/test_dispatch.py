"""Claiming due appliances: only what is due, most overdue first, and never twice."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from appliances.models import Appliance
from failover.services.probes import probe_batches_claim
from failover.tasks import probe_batch
from tests.factories import ApplianceFactory, OrganizationFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_claims_only_due_appliances_in_batches(db):
    now = timezone.now()
    org = OrganizationFactory()
    due = [ApplianceFactory(organization=org) for _ in range(5)]
    Appliance.objects.filter(pk__in=[a.pk for a in due[:2]]).update(next_probe_at=now - timedelta(seconds=30))
    later = ApplianceFactory(organization=org)
    Appliance.objects.filter(pk=later.pk).update(next_probe_at=now + timedelta(seconds=30))

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


def test_probe_batch_task_records_a_result(fleet):
    appliance = fleet.pairs[0].primary
    assert probe_batch([appliance.pk]) == 1
    appliance.refresh_from_db()
    assert appliance.status_reachable is True
    assert appliance.next_probe_at > timezone.now() + timedelta(seconds=appliance.probe_interval - 5)


def test_probe_tasks_go_to_the_probes_queue():
    from portal.celery import app

    for name in ("failover.probe_dispatch", "failover.probe_batch"):
        assert app.amqp.router.route({}, name)["queue"].name == "probes"
