"""Planned and unplanned maintenance (flow 1) walked on both appliance profiles, the vendor-only one included:
the guided steps say exactly what to do on the appliance; the test does it on the simulated appliance through
the simulator's control API, as a person would on the box, and the runbook verifies it from what the appliance
reports through the vendor API (roles, version and build) before it carries on."""

import pytest

from failover.maintenance_selectors import pair_maintenance_window
from failover.models import OperationKind, OperationStatus, PairState, StepStatus
from failover.probing import probe_appliances
from failover.services.operations import operation_confirm
from tests.simulator_profiles import parametrize_profiles

from .conftest import step_statuses

UPGRADED = {"version": "24.3.2", "build": "41377-9a8b7c6d"}


@pytest.fixture
def profile_fleet(request, ops_fleet):
    ops_fleet.sim.set_profile(request.param)
    pair = ops_fleet.pair
    probe_appliances([pair.primary_id, pair.backup_id])  # the inventory learns versions and builds
    pair.refresh_from_db()
    assert pair.state == PairState.HEALTHY, pair.state_reason
    return ops_fleet


def _waiting(operation):
    return operation.steps.get(status=StepStatus.WAITING)


def _software(fleet, appliance) -> str:
    state = fleet.state(appliance)
    return f"{state['version']} build {state['build']}"


def test_planned_maintenance_with_an_upgrade_done_during_it(profile_fleet):
    fleet, pair = profile_fleet, profile_fleet.pair
    before = _software(fleet, pair.primary)
    operation = fleet.start_and_run(OperationKind.MAINTENANCE, window_minutes=60)
    step = _waiting(operation)
    assert step.name == "maintenance", operation.error
    # Exact instructions: which appliance, where, what to log and what to click.
    assert f"Perform the maintenance on {pair.primary.name} ({pair.primary.management_host})" in step.detail
    assert "“Maintenance done”" in step.detail
    assert (fleet.role(pair.backup), fleet.role(pair.primary)) == ("primary", "backup")

    # The person switches the appliance off and says "done" too early: the portal sees it is away and waits.
    fleet.sim.set_fault(pair.primary.management_host, "down")
    operation_confirm(actor=fleet.operator, operation=operation)
    step = _waiting(fleet.run(operation))
    assert step.name == "maintenance" and "Not yet" in step.detail and "does not answer" in step.detail

    # The person installs the update and brings it back; "done" again: verified, and the runbook goes on.
    fleet.set_state(pair.primary, **UPGRADED)
    fleet.sim.clear_faults()
    operation_confirm(actor=fleet.operator, operation=operation)
    operation = fleet.run(operation)
    assert operation.status == OperationStatus.SUCCEEDED, operation.error
    detail = operation.steps.get(name="maintenance").detail
    assert f"{pair.primary.name} was {before}, now reports 24.3.2 build 41377-9a8b7c6d." in detail
    assert f"{pair.primary.name} is backup" in detail  # the roles, as read
    assert (fleet.role(pair.primary), fleet.role(pair.backup)) == ("primary", "backup")
    assert pair_maintenance_window(pair) is None
    statuses = step_statuses(operation)
    assert statuses["swap_back"] == statuses["swing_back"] == statuses["verify"] == StepStatus.DONE


def test_unplanned_maintenance_flow_one_with_a_repair(profile_fleet):
    fleet, pair = profile_fleet, profile_fleet.pair
    before = _software(fleet, pair.primary)
    fleet.sim.set_fault(pair.primary.management_host, "down")
    operation = fleet.start_and_run(OperationKind.UNPLANNED_MAINTENANCE, login_changed=False)
    assert "Data at risk" in operation.steps.get(name="assess").detail
    step = _waiting(operation)
    assert step.name == "maintenance", operation.error
    assert f"Repair {pair.primary.name}" in step.detail and "Do not change /login settings" in step.detail
    assert fleet.role(pair.backup) == "primary"

    # Repaired with a new build; it comes back believing it is still primary (it went down as primary).
    fleet.set_state(pair.primary, **UPGRADED)
    fleet.sim.clear_faults()
    assert fleet.role(pair.primary) == "primary"
    operation_confirm(actor=fleet.operator, operation=operation)
    operation = fleet.run(operation)
    assert operation.status == OperationStatus.SUCCEEDED, operation.error
    detail = operation.steps.get(name="maintenance").detail
    assert f"{pair.primary.name} was {before}, now reports 24.3.2 build 41377-9a8b7c6d." in detail
    statuses = step_statuses(operation)
    assert statuses["demote_returned"] == StepStatus.DONE  # made backup before the swap back
    assert statuses["reapply"] == statuses["final_sync_wait_sync"] == StepStatus.SKIPPED  # flow 1
    assert (fleet.role(pair.primary), fleet.role(pair.backup)) == ("primary", "backup")


parametrize_profiles(globals(), "profile_fleet")
