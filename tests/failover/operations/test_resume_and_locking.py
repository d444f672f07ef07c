"""Crash safety and mutual exclusion: a step in flight is re-checked, not repeated; one operation per pair."""

import threading

import pytest
import redis
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from failover.models import Operation, OperationKind, OperationStatus, OperationStep, Pair, StepStatus
from failover.operations import run_operation
from failover.operations.locks import PairLock
from portal.permissions import SYSTEM
from tests.failover.operations.clients import client_for

from .test_role_change import role_changes


def test_a_role_change_in_flight_when_the_worker_died_is_rechecked_not_repeated(ops_fleet):
    pair = ops_fleet.pair
    operation = ops_fleet.start(OperationKind.BECOME_BACKUP, appliance=pair.primary)
    # What a worker killed right after the appliance answered leaves behind: the first step done, the
    # role-change step marked running, the epoch bumped, and the appliance already swapped.
    run_operation_steps = [("check_roles", StepStatus.DONE), ("change_role", StepStatus.RUNNING),
                           ("wait_roles", StepStatus.PENDING)]
    for index, (name, status) in enumerate(run_operation_steps):
        OperationStep.objects.create(organization=pair.organization, operation=operation, index=index, name=name,
                                     description=name, status=status)
    Pair.objects.filter(pk=pair.pk).update(epoch=1)
    Operation.objects.filter(pk=operation.pk).update(status=OperationStatus.RUNNING, epoch=1, attempts=1,
                                                     heartbeat_at=timezone.now())
    client_for(pair.primary).set_failover_role("backup")

    assert run_operation(operation.pk) == OperationStatus.SUCCEEDED
    operation.refresh_from_db()
    assert operation.attempts == 2
    assert "not repeated" in operation.steps.get(name="change_role").detail
    assert role_changes(ops_fleet, pair.primary) == [("primary", "backup")]  # exactly one swap
    assert role_changes(ops_fleet, pair.backup) == [("backup", "primary")]


def test_an_operation_planned_before_someone_else_changed_the_roles_is_fenced_off(ops_fleet):
    pair = ops_fleet.pair
    operation = ops_fleet.start(OperationKind.BECOME_BACKUP, appliance=pair.primary)
    Pair.objects.filter(pk=pair.pk).update(epoch=5)  # e.g. an automatic failover meanwhile
    operation = ops_fleet.run(operation)
    assert operation.status == OperationStatus.CANCELLED
    assert "changed since this operation was planned" in operation.error
    assert ops_fleet.role(pair.primary) == "primary"


def test_a_running_operation_is_not_run_twice_at_once(ops_fleet):
    operation = ops_fleet.start(OperationKind.SYNC)
    lock = PairLock(operation.pair_id)
    assert lock.acquire()
    try:
        assert run_operation(operation.pk) == "locked"
    finally:
        lock.release()
    assert run_operation(operation.pk) == OperationStatus.SUCCEEDED
    assert run_operation(operation.pk) == "finished"  # a redelivered message does nothing


def test_finished_operations_are_never_rerun(ops_fleet):
    operation = ops_fleet.start_and_run(OperationKind.BECOME_BACKUP, appliance=ops_fleet.pair.primary)
    assert run_operation(operation.pk) == "finished"
    assert len(role_changes(ops_fleet, ops_fleet.pair.primary)) == 1


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_role_changes_on_one_pair_exactly_one_runs(fresh_simulator, settings):
    from demo.fleet_loader import fleet_load

    from .conftest import OpsFleet

    settings.FAILOVER_OPERATIONS_QUEUE = "failover-tests-unconsumed"
    settings.FAILOVER_POLL_INTERVAL = 0.05
    sim = fresh_simulator
    fleet = OpsFleet(sim, fleet_load(actor=SYSTEM, fleet=sim.fleet_path, ca_pem=sim.ca_path.read_text(),
                                     port=sim.port, pairs=True))
    pair = fleet.pair
    barrier = threading.Barrier(2)
    outcomes: list = []

    def request(kind, appliance):
        try:
            barrier.wait()
            outcomes.append(fleet.start(kind, appliance=appliance))
        except ValidationError as exc:
            outcomes.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=request, args=(OperationKind.BECOME_BACKUP, pair.primary)),
               threading.Thread(target=request, args=(OperationKind.BECOME_PRIMARY, pair.backup))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    started = [o for o in outcomes if isinstance(o, Operation)]
    refused = [o for o in outcomes if isinstance(o, ValidationError)]
    assert len(started) == 1 and len(refused) == 1
    assert "already running" in refused[0].messages[0]
    # Both workers get the message; the lock lets exactly one run it.
    results: list = []
    runners = [threading.Thread(target=lambda: (results.append(run_operation(started[0].pk)), connection.close()))
               for _ in range(2)]
    for runner in runners:
        runner.start()
    for runner in runners:
        runner.join()
    assert sorted(results) in (["locked", OperationStatus.SUCCEEDED], ["finished", OperationStatus.SUCCEEDED])
    assert len(role_changes(fleet, pair.primary)) == 1
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(settings.FAILOVER_OPERATIONS_QUEUE)


def test_stale_operations_are_handed_back_but_not_those_waiting_for_the_operator(ops_fleet, settings):
    from datetime import timedelta

    from failover.services.operations import operations_resume_stale

    settings.FAILOVER_OPERATIONS_QUEUE = "failover-tests-unconsumed"
    stale, waiting = ops_fleet.pairs[0], ops_fleet.pairs[1]
    long_ago = timezone.now() - timedelta(minutes=10)
    crashed = ops_fleet.start(OperationKind.SYNC, pair=stale)
    guided = ops_fleet.start(OperationKind.SYNC, pair=waiting, guided=True)
    assert run_operation(guided.pk) == "waiting"
    Operation.objects.filter(pk__in=[crashed.pk, guided.pk]).update(status=OperationStatus.RUNNING,
                                                                    heartbeat_at=long_ago)
    assert operations_resume_stale(stale_after=timedelta(minutes=2)) == [crashed.pk]
    assert operations_resume_stale(stale_after=timedelta(minutes=20)) == []


def test_a_message_that_finds_the_pair_locked_is_retried_not_dropped(ops_fleet):
    # E.g. the operator's "confirm" arrives while another runner still holds the pair: acknowledging the message
    # would lose the confirmation (resume leaves operations that wait for the operator alone).
    from celery.exceptions import Retry

    from failover.tasks import run_operation as task

    operation = ops_fleet.start(OperationKind.SYNC)
    lock = PairLock(operation.pair_id)
    assert lock.acquire()
    try:
        with pytest.raises(Retry):
            task(operation.pk)
    finally:
        lock.release()
    assert task(operation.pk) == OperationStatus.SUCCEEDED


def test_an_operation_is_recorded_with_its_audit_record_or_not_at_all(ops_fleet, monkeypatch):
    from failover.services import operations as service

    def audit_unavailable(*args, **kwargs):
        raise RuntimeError("audit log unavailable")

    # The audit rows of a start are inserted together, after the operations (operations_start).
    monkeypatch.setattr(service.AuditEvent.objects, "bulk_create", audit_unavailable)
    with pytest.raises(RuntimeError):
        ops_fleet.start(OperationKind.SYNC)
    assert not Operation.objects.exists()  # no unaudited operation, and nothing handed to a worker
