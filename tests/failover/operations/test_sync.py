import pytest
from django.core.exceptions import ValidationError

from failover.models import OperationKind, OperationStatus, SyncRecord, SyncResult, SyncTrigger

from .conftest import step_statuses


def test_sync_now_copies_the_primarys_data_into_the_backup_and_records_it(ops_fleet):
    pair = ops_fleet.pair
    ops_fleet.set_state(pair.primary, data={"users": 77, "config": {"site_name": "changed on primary"}})
    assert ops_fleet.state(pair.backup)["data"]["users"] != 77

    operation = ops_fleet.start_and_run(OperationKind.SYNC)

    assert operation.status == OperationStatus.SUCCEEDED, operation.error
    assert step_statuses(operation) == {"find_roles": "done", "start_sync": "done", "wait_sync": "done"}
    backup_state = ops_fleet.state(pair.backup)
    assert backup_state["data"]["users"] == 77
    assert backup_state["data"]["config"]["site_name"] == "changed on primary"
    assert backup_state["last_sync"]["status"] == "Success"
    record = SyncRecord.objects.get(pair=pair, operation=operation)
    assert record.result == SyncResult.SUCCEEDED and record.trigger == SyncTrigger.MANUAL
    assert record.bytes_transferred == ops_fleet.state(pair.primary)["data_bytes"]
    assert record.duration_seconds is not None
    pair.refresh_from_db()
    assert pair.last_sync_at == record.finished_at


def test_a_second_operation_on_the_same_pair_is_refused_while_one_is_active(ops_fleet):
    first = ops_fleet.start(OperationKind.SYNC)
    with pytest.raises(ValidationError, match="already running"):
        ops_fleet.start(OperationKind.SYNC)
    ops_fleet.run(first)
    assert ops_fleet.start(OperationKind.SYNC).status == OperationStatus.PENDING


def test_sync_refused_while_the_appliance_is_already_syncing(ops_fleet):
    pair = ops_fleet.pair
    # A slow sync started outside the portal (the appliance's own automatic sync): ~2 s real.
    ops_fleet.set_state(pair.backup, settings={"bandwidth_limit": 1_000_000})
    from simulator.testing import ApplianceClient

    ApplianceClient(ops_fleet.sim, pair.backup.management_host).command("x_sync_now", method="POST")
    operation = ops_fleet.start_and_run(OperationKind.SYNC)
    assert operation.status == OperationStatus.FAILED
    assert "already running" in operation.error
    assert step_statuses(operation)["start_sync"] == "failed"


def test_sync_during_a_conflict_fails_with_an_explanation(ops_fleet):
    pair = ops_fleet.pair
    ops_fleet.set_state(pair.backup, role="primary")
    operation = ops_fleet.start_and_run(OperationKind.SYNC)
    assert operation.status == OperationStatus.FAILED
    assert "Fix the conflict first" in operation.error
