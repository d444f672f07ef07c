"""A real Celery worker process is SIGKILLed in the middle of a role change; after a restart the operation is
resumed and completes exactly once (the appliances' own role and sync histories prove nothing ran twice)."""

import time
import uuid

import pytest
import redis

from demo.fleet_loader import fleet_load
from failover.models import Operation, OperationKind, OperationStatus, StepStatus, SyncRecord
from failover.operations import run_operation
from portal.celery import app
from portal.permissions import SYSTEM
from tests.celery_worker import Worker, wait_until

from .conftest import OpsFleet
from .test_role_change import role_changes


@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_operation_resumes_and_completes_exactly_once(fresh_simulator, settings, tmp_path):
    queue = f"failover-crash-test-{uuid.uuid4().hex[:8]}"
    settings.FAILOVER_OPERATIONS_QUEUE = queue
    sim = fresh_simulator
    fleet = OpsFleet(sim, fleet_load(actor=SYSTEM, fleet=sim.fleet_path, ca_pem=sim.ca_path.read_text(),
                                     port=sim.port, pairs=True))
    pair = fleet.pair
    # A sync-first swap whose sync lasts ~4 s real, so the worker can be killed while it waits.
    data_bytes = fleet.state(pair.primary)["data_bytes"]
    fleet.set_state(pair.backup, settings={"bandwidth_limit": data_bytes // 400})
    syncs_before = len(fleet.state(pair.backup)["sync_history"])
    log = tmp_path / "worker.log"
    first = Worker(queue, log)
    second = None
    try:
        operation = fleet.start(OperationKind.BECOME_PRIMARY, appliance=pair.backup, sync_first=True)
        wait_until(lambda: operation.steps.filter(name="wait_roles", status=StepStatus.RUNNING).exists(), 30,
                   "the worker to reach the waiting step")
        time.sleep(0.5)
        first.kill()
        operation.refresh_from_db()
        assert operation.status == OperationStatus.RUNNING and operation.attempts == 1

        second = Worker(queue, log)
        time.sleep(2.5)  # the dead worker's lock expires and its heartbeat goes stale
        app.send_task("failover.resume_stale_operations", queue=queue)
        wait_until(lambda: Operation.objects.filter(pk=operation.pk).exclude(status__in=["pending", "running"]).exists(),
                   60, "the resumed operation to finish")
    finally:
        first.stop()
        if second is not None:
            second.stop()
        redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(queue)
    operation.refresh_from_db()
    assert operation.status == OperationStatus.SUCCEEDED, (operation.error, log.read_text()[-3000:])
    assert operation.attempts == 2
    assert [s.status for s in operation.steps.order_by("index")] == ["done", "done", "done", "done"]
    # Exactly once, as the appliances saw it: one swap each way, one sync.
    assert role_changes(fleet, pair.backup) == [("backup", "primary")]
    assert role_changes(fleet, pair.primary) == [("primary", "backup")]
    assert len(fleet.state(pair.backup)["sync_history"]) == syncs_before + 1
    assert SyncRecord.objects.filter(operation=operation).count() == 1
    # The killed worker's message, if ever redelivered, finds the operation finished and does nothing.
    assert run_operation(operation.pk) == "finished"
