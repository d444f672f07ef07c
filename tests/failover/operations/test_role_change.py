"""Become primary / become backup against the simulator: the appliances' roles, data and history are checked.
Every test runs against both simulator profiles: a role change needs nothing beyond the vendor API."""

import pytest

from failover.models import OperationKind, OperationStatus, SyncRecord, SyncResult

from .conftest import step_statuses


@pytest.fixture(params=["extended", "vendor"])
def ops_fleet(request, ops_fleet):
    ops_fleet.sim.set_profile(request.param)
    ops_fleet.profile = request.param
    return ops_fleet


def role_changes(ops_fleet, appliance) -> list[tuple[str, str]]:
    """Role changes since the fleet was loaded (the simulator's own start-up entries left out)."""
    return [(h["from"], h["to"]) for h in ops_fleet.state(appliance)["role_history"] if h["from"] != "none"]


def test_become_backup_on_the_primary_swaps_the_roles(ops_fleet):
    pair = ops_fleet.pair
    operation = ops_fleet.start_and_run(OperationKind.BECOME_BACKUP, appliance=pair.primary)
    assert operation.status == OperationStatus.SUCCEEDED, operation.error
    assert ops_fleet.role(pair.primary) == "backup"
    assert ops_fleet.role(pair.backup) == "primary"
    assert role_changes(ops_fleet, pair.primary) == [("primary", "backup")]
    assert role_changes(ops_fleet, pair.backup) == [("backup", "primary")]
    pair.refresh_from_db()
    assert pair.epoch == 1  # every role change bumps the fencing token
    # Shared IPs follow the primary role.
    assert ops_fleet.state(pair.backup)["enabled_shared_ips"] == ["127.250.0.1"]
    assert ops_fleet.state(pair.primary)["enabled_shared_ips"] == []


def test_become_primary_from_the_backup_side(ops_fleet):
    pair = ops_fleet.pair
    operation = ops_fleet.start_and_run(OperationKind.BECOME_PRIMARY, appliance=pair.backup)
    assert operation.status == OperationStatus.SUCCEEDED, operation.error
    assert (ops_fleet.role(pair.backup), ops_fleet.role(pair.primary)) == ("primary", "backup")


def test_asking_for_the_role_already_held_changes_nothing(ops_fleet):
    pair = ops_fleet.pair
    operation = ops_fleet.start_and_run(OperationKind.BECOME_PRIMARY, appliance=pair.primary)
    assert operation.status == OperationStatus.SUCCEEDED
    assert step_statuses(operation)["change_role"] == "skipped"
    assert role_changes(ops_fleet, pair.primary) == []


def test_sync_first_pulls_the_data_then_swaps(ops_fleet):
    pair = ops_fleet.pair
    ops_fleet.set_state(pair.primary, data={"users": 123}, users_connected=5)
    operation = ops_fleet.start_and_run(OperationKind.BECOME_PRIMARY, appliance=pair.backup, sync_first=True)
    assert operation.status == OperationStatus.SUCCEEDED, operation.error
    backup_state = ops_fleet.state(pair.backup)
    assert backup_state["role"] == "primary"
    assert backup_state["data"]["users"] == 123  # the sync ran before the swap
    assert ops_fleet.state(pair.primary)["role"] == "backup"
    assert ops_fleet.state(pair.primary)["users_connected"] == 0  # users were disconnected for the sync
    assert [h["reason"] for h in ops_fleet.state(pair.backup)["sync_history"]][-1] == "data_sync_first"
    record = SyncRecord.objects.get(operation=operation)
    last_sync = ops_fleet.state(pair.backup)["last_sync"]
    assert record.result == SyncResult.SUCCEEDED
    assert int(record.finished_at.timestamp()) == int(last_sync["finished"])  # closed from the appliance's report
    if ops_fleet.profile == "extended":
        assert record.bytes_transferred and record.start_reported
    else:
        # check_health reports when the sync ended and how, nothing more: no size or duration is claimed.
        assert record.bytes_transferred is None and record.duration_seconds is None


def test_swap_is_cancelled_when_the_peer_cannot_be_contacted(ops_fleet):
    pair = ops_fleet.pair
    ops_fleet.sim.set_fault(pair.backup.management_host, "partition")
    operation = ops_fleet.start_and_run(OperationKind.BECOME_BACKUP, appliance=pair.primary)
    assert operation.status == OperationStatus.CANCELLED
    assert "cancelled" in operation.error.lower()
    assert ops_fleet.role(pair.primary) == "primary"  # one primary, one backup kept
    assert ops_fleet.role(pair.backup) == "backup"
    assert role_changes(ops_fleet, pair.primary) == []


def test_force_makes_the_primary_backup_even_without_its_peer(ops_fleet):
    pair = ops_fleet.pair
    ops_fleet.sim.set_fault(pair.backup.management_host, "down")
    operation = ops_fleet.start_and_run(OperationKind.BECOME_BACKUP, appliance=pair.primary, force=True)
    assert operation.status == OperationStatus.SUCCEEDED, operation.error
    assert ops_fleet.role(pair.primary) == "backup"
    assert "could not be told" in operation.steps.get(name="wait_roles").detail
    ops_fleet.sim.clear_fault(pair.backup.management_host)
    assert ops_fleet.role(pair.backup) == "backup"  # both backup now: a conflict the operator must fix


def test_sync_first_with_a_failing_sync_cancels_the_swap(ops_fleet):
    pair = ops_fleet.pair
    # A slow sync (~3 s real) cut by a partition half-way: the swap must not happen.
    ops_fleet.set_state(pair.backup, settings={"bandwidth_limit": 4_000_000})
    import threading

    timer = threading.Timer(1.0, ops_fleet.sim.set_fault, args=(pair.primary.management_host, "partition"))
    timer.start()
    try:
        operation = ops_fleet.start_and_run(OperationKind.BECOME_PRIMARY, appliance=pair.backup, sync_first=True)
    finally:
        timer.join()
    assert operation.status == OperationStatus.CANCELLED, operation.error
    assert "cancelled" in operation.error
    assert (ops_fleet.role(pair.primary), ops_fleet.role(pair.backup)) == ("primary", "backup")
    assert SyncRecord.objects.get(operation=operation).result == SyncResult.FAILED
