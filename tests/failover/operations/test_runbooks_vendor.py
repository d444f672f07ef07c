"""The runbooks walked on both appliance profiles, the vendor-only one included: planned maintenance, unplanned
maintenance (both flows), a drill and a failed one, synchronous and asynchronous pair upgrades. The guided steps
say exactly what to do on the appliance; the test does it on the simulated appliance through the simulator's
control API, as a person would on the box, and the runbook verifies it from what the appliance reports through the
vendor API (roles, version and build, sync time) before it carries on."""

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone

from appliances.models import ConfigurationBackup
from failover.maintenance_selectors import pair_maintenance_window
from failover.models import DrillSchedule, Operation, OperationKind, OperationStatus, PairState, StepStatus
from failover.operations.sync_records import parse_time
from failover.probing import probe_appliances
from failover.schedules import SCHEDULE
from failover.services.operations import operation_confirm
from failover.services.windows import change_log_add, drill_schedule_set, drills_start_due, window_schedule
from failover.tasks import start_due_drills
from portal.models import Alert
from simulator.testing import ApplianceClient
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


def _on_the_box(fleet, appliance, action: str, **params) -> None:
    """What a person does in /login on the appliance (Sync Now, Break, Establish): the simulator exposes those
    buttons as its x_ actions only, so the appliance offers them for the one click, then goes back to its profile."""
    profile = fleet.state(appliance)["profile"]
    fleet.sim.set_profile("extended", [appliance.management_host])
    try:
        ApplianceClient(fleet.sim, fleet.state(appliance)["name"]).command(action, method="POST", **params)
    finally:
        fleet.sim.set_profile(profile, [appliance.management_host])


def _sync_now(fleet, appliance) -> None:
    """“Sync Now” in /login on the backup, and wait on the box until its status shows the sync finished."""
    before = len(fleet.state(appliance)["sync_history"])
    _on_the_box(fleet, appliance, "x_sync_now")
    fleet.sim.wait_for(lambda: len(fleet.state(appliance)["sync_history"]) > before
                       and not fleet.state(appliance)["sync_in_progress"])


def _walk(fleet, operation, people: dict[str, tuple[str, Callable[[], None] | None]]):
    """Run the runbook to its end. Each step waiting for a person must say what ``people[step]`` names (the exact
    instruction); "done" said before the work is done is not taken (the runbook verifies what the appliances
    report); then the person does it and says "done" again (a step only a person can vouch for, with no action,
    is just confirmed). Returns the operation and the steps a person was asked to do, in order."""
    asked = []
    operation = fleet.run(operation)
    while operation.status == OperationStatus.RUNNING:
        step = _waiting(operation)
        assert step.name in people, (step.name, step.detail)
        assert step.name not in asked, f"{step.name} still waits after it was done: {step.detail}"
        asked.append(step.name)
        instruction, do = people[step.name]
        assert instruction in step.detail, (instruction, step.detail)
        if do is not None:
            operation_confirm(actor=fleet.operator, operation=operation)
            assert _waiting(fleet.run(operation)).name == step.name, "taken before it was done"
            do()
        operation_confirm(actor=fleet.operator, operation=operation)
        operation = fleet.run(operation)
    return operation, asked


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


def _vendor(fleet) -> bool:
    return fleet.state(fleet.pair.primary)["profile"] == "vendor"


def test_unplanned_maintenance_flow_two_reapplies_the_changes_then_syncs(profile_fleet):
    fleet, pair = profile_fleet, profile_fleet.pair
    fleet.sim.set_fault(pair.primary.management_host, "down")
    operation = fleet.start(OperationKind.UNPLANNED_MAINTENANCE, login_changed=True)

    def repaired():
        change_log_add(actor=fleet.operator, operation=operation, text="New jump group Vendors")
        fleet.sim.clear_faults()

    operation, asked = _walk(fleet, operation, {
        "maintenance": (f"Track every /login change you make on {pair.backup.name}", repaired),
        "reapply": (f"Re-apply these /login changes on {pair.primary.name}, now primary again, then click “Done”:\n"
                    "• New jump group Vendors", None),
        # Vendor API: no sync call; the person clicks Sync Now, the portal sees the backup's sync time advance.
        "final_sync_start_sync": (f"Sign in to /login on {pair.backup.name} ({pair.backup.management_host}), open "
                                  "Management > Failover and click “Sync Now”", lambda: _sync_now(fleet, pair.backup)),
    })
    assert operation.status == OperationStatus.SUCCEEDED, operation.error
    assert asked == ["maintenance", "reapply", *(["final_sync_start_sync"] if _vendor(fleet) else [])]
    assert (fleet.role(pair.primary), fleet.role(pair.backup)) == ("primary", "backup")
    statuses = step_statuses(operation)
    assert statuses["swap_back"] == statuses["final_sync_wait_sync"] == statuses["verify"] == StepStatus.DONE
    last = fleet.state(pair.backup)["last_sync"]["finished"]
    assert int(parse_time(operation.result["final_sync_at"]).timestamp()) == int(last)  # the sync after the swap back
    assert pair_maintenance_window(pair) is None


def test_drill_under_beat_measures_rto_and_sync_age(profile_fleet):
    fleet, pair = profile_fleet, profile_fleet.pair
    assert SCHEDULE["failover-start-due-drills"]["task"] == start_due_drills.name
    drill_schedule_set(actor=fleet.operator, pair=pair, enabled=True, every_days=30)
    # Outside a window: no drill, and the reason is kept on the schedule.
    assert drills_start_due() == []
    assert "No maintenance window" in DrillSchedule.objects.get(pair=pair).last_skip_reason
    now = timezone.now()
    window_schedule(actor=fleet.operator, pair=pair, starts_at=now - timedelta(minutes=1),
                    ends_at=now + timedelta(hours=1), reason="drill night")
    pair.refresh_from_db()
    assert pair.state == PairState.MAINTENANCE and "drill night" in pair.state_reason
    # An open alert on the pair holds it back too.
    alert = Alert.objects.create(organization=pair.organization, kind="sync_stale", dedup_key="a", subject="s",
                                 body="b", scope=pair)
    assert drills_start_due() == []
    assert "alert" in DrillSchedule.objects.get(pair=pair).last_skip_reason
    Alert.objects.filter(pk=alert.pk).update(created_at=now - timedelta(hours=2))
    assert start_due_drills() == 1  # the beat task
    assert drills_start_due() == []  # once per period
    # The vendor's set_failover_role (data_sync_first) and the shared IP do it all: nobody is asked anything.
    drill, asked = _walk(fleet, Operation.objects.get(kind=OperationKind.DRILL, pair=pair), {})
    assert drill.status == OperationStatus.SUCCEEDED, drill.error
    assert asked == []
    assert (fleet.role(pair.primary), fleet.role(pair.backup)) == ("primary", "backup")
    changes = drill.result["role_changes"]
    assert [c["change"] for c in changes] == ["swap_out", "swap_back"]
    assert all(c["rto_seconds"] > 0 and c["sync_age_seconds"] is not None for c in changes)


def test_a_failed_drill_alerts_and_leaves_the_roles_as_read(profile_fleet):
    fleet, pair = profile_fleet, profile_fleet.pair
    fleet.sim.set_fault(pair.backup.management_host, "down")
    drill = fleet.start_and_run(OperationKind.DRILL)
    assert drill.status == OperationStatus.FAILED
    alert = Alert.objects.get(kind="drill_failed")
    assert alert.pair == pair and "Roles now" in alert.body
    assert fleet.role(pair.primary) == "primary"


@pytest.mark.parametrize("method", ["synchronous", "asynchronous"])
def test_pair_upgrade(profile_fleet, method):
    fleet, pair = profile_fleet, profile_fleet.pair
    a, b = pair.primary, pair.backup
    first, second = (a, b) if method == "synchronous" else (b, a)
    # The asynchronous path ends with B primary: the relationship is established from it, the connection details
    # the other way round.
    new_primary = first
    there, back = ((pair.backup_host, pair.backup_port), (pair.reverse_host, pair.reverse_port))
    if method == "asynchronous":
        there, back = back, there

    def upgrade(member):
        return f"Upgrade {'A' if member == a else 'B'} {member.name} ({member.management_host}", \
            lambda: fleet.set_state(member, **UPGRADED)

    operation, asked = _walk(fleet, fleet.start(OperationKind.PAIR_UPGRADE, method=method), {
        "sync_start_sync": ("click “Sync Now”", lambda: _sync_now(fleet, b)),
        "break_break": (f"Sign in to /login on {a.name} ({a.management_host}), open Management > Failover and click "
                        "“Break Failover Relationships”", lambda: _on_the_box(fleet, a, "x_break_relationship")),
        "upgrade_a": upgrade(a),
        "serve_from_b": (f"Point the site at {b.name}", None),
        "upgrade_b": upgrade(b),
        "establish_establish": (
            f"Sign in to /login on {new_primary.name} ({new_primary.management_host}), open Management > Failover "
            f"and under “New Backup Site Connection Details” enter host {there[0]}, port {there[1]}; under “Reverse "
            f"Connection Details to this Primary Site” enter host {back[0]}, port {back[1]}",
            lambda: _on_the_box(fleet, new_primary, "x_establish_relationship", backup_host=there[0],
                                backup_port=there[1], reverse_host=back[0], reverse_port=back[1])),
    })
    assert operation.status == OperationStatus.SUCCEEDED, [(s.name, s.status, s.detail) for s in operation.steps.all()]
    assert ConfigurationBackup.objects.get(appliance=a).status == "succeeded"
    upgrades = ["upgrade_a", "upgrade_b"] if method == "synchronous" else ["upgrade_b", "serve_from_b", "upgrade_a"]
    guided = (["sync_start_sync", "break_break"], ["establish_establish"]) if _vendor(fleet) else ([], [])
    assert asked == [*guided[0], *upgrades, *guided[1]]
    assert (fleet.role(first), fleet.role(second)) == ("primary", "backup")
    for member in (a, b):
        assert _software(fleet, member) == "24.3.2 build 41377-9a8b7c6d"
        detail = operation.steps.get(name=f"upgrade_{'a' if member == a else 'b'}").detail
        assert f"{member.name} was " in detail and "now reports 24.3.2 build 41377-9a8b7c6d." in detail
    assert "24.3.2 build 41377-9a8b7c6d" in operation.steps.get(name="verify").detail


parametrize_profiles(globals(), "profile_fleet")
