"""Runbooks walked end to end against the simulator (extended profile): planned and unplanned maintenance, windows,
guided upgrades on request. Drills and pair upgrades are walked on both profiles in test_runbooks_vendor.py."""

import pytest
from django.core.exceptions import ValidationError

from failover.maintenance_selectors import maintenance_window_silencer, pair_maintenance_window
from failover.models import MaintenanceWindow, OperationKind, OperationStatus, PairState, StepStatus
from failover.services.operations import operation_cancel, operation_confirm
from failover.services.windows import change_log_add
from portal.models import Alert

from .conftest import step_statuses


def waiting_step(operation):
    return operation.steps.get(status=StepStatus.WAITING)


def ready_pair(ops_fleet):
    pair = ops_fleet.pair
    pair.state = PairState.HEALTHY
    pair.save(update_fields=["state"])
    return pair


def test_planned_maintenance_end_to_end(ops_fleet):
    pair = ready_pair(ops_fleet)
    ops_fleet.set_state(pair.primary, data={"users": 7})
    operation = ops_fleet.start_and_run(OperationKind.MAINTENANCE, window_minutes=60)
    # Steps 1-6: the backup pulled the data, took over, the traffic follows; the portal waits for the person.
    assert operation.status == OperationStatus.RUNNING, operation.error
    step = waiting_step(operation)
    assert step.name == "maintenance"
    assert (ops_fleet.role(pair.backup), ops_fleet.role(pair.primary)) == ("primary", "backup")
    assert ops_fleet.state(pair.backup)["data"]["users"] == 7
    assert ops_fleet.state(pair.backup)["enabled_shared_ips"] == ["127.250.0.1"]
    assert "change log" in step.detail and pair.primary.name in step.detail
    window = pair_maintenance_window(pair)
    assert window is not None and window.appliance == pair.primary and window.operation == operation
    # A change made on the interim primary is logged.
    change_log_add(actor=ops_fleet.operator, operation=operation, text="Added user group Night shift")
    # Running again without the confirmation changes nothing.
    assert ops_fleet.run(operation).status == OperationStatus.RUNNING
    # Step 7: the person says maintenance is done; the swap back pulls the data first, then verification.
    ops_fleet.set_state(pair.backup, data={"users": 8})
    operation_confirm(actor=ops_fleet.operator, operation=operation)
    operation = ops_fleet.run(operation)
    assert operation.status == OperationStatus.SUCCEEDED, operation.error
    assert (ops_fleet.role(pair.primary), ops_fleet.role(pair.backup)) == ("primary", "backup")
    assert ops_fleet.state(pair.primary)["data"]["users"] == 8  # what changed meanwhile came back
    assert ops_fleet.state(pair.primary)["enabled_shared_ips"] == ["127.250.0.1"]
    statuses = step_statuses(operation)
    assert statuses.pop("demote_returned") == statuses.pop("demote_returned_wait") == StepStatus.SKIPPED
    assert set(statuses.values()) == {StepStatus.DONE}
    window.refresh_from_db()
    assert window.closed_at is not None and pair_maintenance_window(pair) is None
    changes = operation.result["role_changes"]
    assert [c["change"] for c in changes] == ["swap_out", "swap_back"]
    assert all(c["rto_seconds"] >= 0 for c in changes)
    assert operation.steps.get(name="maintenance").confirmed_by == ops_fleet.operator


def test_maintenance_done_is_not_accepted_while_the_appliance_is_away(ops_fleet):
    pair = ready_pair(ops_fleet)
    operation = ops_fleet.start_and_run(OperationKind.MAINTENANCE)
    ops_fleet.sim.set_fault(pair.primary.management_host, "down")
    operation_confirm(actor=ops_fleet.operator, operation=operation)
    operation = ops_fleet.run(operation)
    step = waiting_step(operation)
    assert step.name == "maintenance" and "Not yet" in step.detail and "does not answer" in step.detail
    assert ops_fleet.role(pair.backup) == "primary"  # nothing swapped back towards an appliance that is away
    ops_fleet.sim.clear_faults()
    operation_confirm(actor=ops_fleet.operator, operation=operation)
    assert ops_fleet.run(operation).status == OperationStatus.SUCCEEDED


def test_a_second_runbook_and_a_conflicted_pair_are_refused_with_the_reason(ops_fleet):
    ready_pair(ops_fleet)
    ops_fleet.start_and_run(OperationKind.MAINTENANCE)
    with pytest.raises(ValidationError, match="Another operation is already running"):
        ops_fleet.start(OperationKind.DRILL)
    other = ops_fleet.pairs[1]
    other.state = PairState.CONFLICT
    other.save(update_fields=["state"])
    with pytest.raises(ValidationError, match="fix the conflict first"):
        ops_fleet.start(OperationKind.MAINTENANCE, pair=other)


def test_cancelling_at_the_checkpoint_leaves_the_interim_primary_serving(ops_fleet):
    pair = ready_pair(ops_fleet)
    operation = ops_fleet.start_and_run(OperationKind.MAINTENANCE)
    operation_cancel(actor=ops_fleet.operator, operation=operation, reason="postponed")
    operation.refresh_from_db()
    assert operation.status == OperationStatus.CANCELLED
    assert (ops_fleet.role(pair.backup), ops_fleet.role(pair.primary)) == ("primary", "backup")
    # The window stays until its end: the appliance may still be in pieces.
    assert pair_maintenance_window(pair) is not None
    with pytest.raises(ValidationError):
        change_log_add(actor=ops_fleet.operator, operation=operation, text="too late")


def test_window_silences_alerts_it_covers_but_never_two_primaries(ops_fleet):
    pair = ready_pair(ops_fleet)
    ops_fleet.start_and_run(OperationKind.MAINTENANCE)

    def alert(kind, key, **about):
        return Alert(organization=pair.organization, kind=kind, dedup_key=key, subject="s", body="b", **about)

    assert "Maintenance window" in maintenance_window_silencer(alert("backup_down", "x", target=pair.primary))
    assert "Maintenance window" in maintenance_window_silencer(alert("degraded", "y", scope=pair))
    assert maintenance_window_silencer(alert("degraded", "z", scope=ops_fleet.pairs[1])) == ""
    # A drill's failure is what the drill is for; two primaries hurt whatever the reason (an IP conflict).
    assert maintenance_window_silencer(alert("drill_failed", "d", scope=pair)) == ""
    assert maintenance_window_silencer(alert("conflict", "c", scope=pair)) == ""
    assert MaintenanceWindow.objects.count() == 1


@pytest.mark.parametrize("login_changed", [False, True], ids=["flow1-no-login-change", "flow2-login-changed"])
def test_unplanned_maintenance_flows(ops_fleet, login_changed):
    pair = ready_pair(ops_fleet)
    ops_fleet.sim.set_fault(pair.primary.management_host, "down")
    operation = ops_fleet.start_and_run(OperationKind.UNPLANNED_MAINTENANCE, login_changed=login_changed)
    assert operation.status == OperationStatus.RUNNING, operation.error
    assess = operation.steps.get(name="assess")
    assert "Data at risk" in assess.detail
    assert ops_fleet.role(pair.backup) == "primary"
    step = waiting_step(operation)
    assert step.name == "maintenance"
    assert ("change log" in step.detail) is login_changed
    ops_fleet.sim.clear_faults()
    if login_changed:
        change_log_add(actor=ops_fleet.operator, operation=operation, text="New jump group Vendors")
    operation_confirm(actor=ops_fleet.operator, operation=operation)
    operation = ops_fleet.run(operation)
    if login_changed:
        step = waiting_step(operation)
        assert step.name == "reapply" and "New jump group Vendors" in step.detail
        operation_confirm(actor=ops_fleet.operator, operation=operation)
        operation = ops_fleet.run(operation)
    assert operation.status == OperationStatus.SUCCEEDED, (operation.error, [(s.name, s.status, s.detail) for s in operation.steps.all()])
    assert (ops_fleet.role(pair.primary), ops_fleet.role(pair.backup)) == ("primary", "backup")
    statuses = step_statuses(operation)
    # It came back believing it was primary: made backup (no sync) before the swap back.
    assert statuses["demote_returned"] == StepStatus.DONE
    assert statuses["final_sync_wait_sync"] == (StepStatus.DONE if login_changed else StepStatus.SKIPPED)
    assert pair_maintenance_window(pair) is None


def test_unplanned_maintenance_skips_to_step_3_after_an_automatic_failover(ops_fleet):
    pair = ready_pair(ops_fleet)
    ops_fleet.sim.set_fault(pair.primary.management_host, "down")
    ops_fleet.set_state(pair.backup, role="primary")
    operation = ops_fleet.start_and_run(OperationKind.UNPLANNED_MAINTENANCE, login_changed="no")
    statuses = step_statuses(operation)
    assert statuses["promote"] == statuses["promote_wait"] == StepStatus.SKIPPED
    assert "skipping to step 3" in operation.steps.get(name="assess").detail
    assert waiting_step(operation).name == "maintenance"


def test_unplanned_maintenance_needs_the_question_answered(ops_fleet):
    ready_pair(ops_fleet)
    with pytest.raises(ValidationError) as error:
        ops_fleet.start(OperationKind.UNPLANNED_MAINTENANCE)
    assert "login_changed" in error.value.message_dict


def test_an_open_window_pauses_the_portals_automatic_failover(ops_fleet):
    from datetime import timedelta

    from django.utils import timezone

    from failover.services.autofailover import autofailover_decide
    from failover.services.windows import window_close, window_schedule

    pair = ops_fleet.pair
    pair.portal_auto_failover = True
    pair.state = PairState.PRIMARY_UNREACHABLE
    pair.primary_unreachable_since = timezone.now() - timedelta(hours=1)
    pair.save()
    now = timezone.now()
    window = window_schedule(actor=ops_fleet.operator, appliance=pair.primary, starts_at=now,
                             ends_at=now + timedelta(hours=2), reason="disk swap")
    decision = autofailover_decide(pair=pair, now=timezone.now())
    assert decision.code == "maintenance" and "disk swap" not in decision.reason and "Paused" in decision.reason
    window_close(actor=ops_fleet.operator, window=window)
    assert autofailover_decide(pair=pair, now=timezone.now()).code != "maintenance"
    # A window in the future does not pause anything yet.
    window_schedule(actor=ops_fleet.operator, pair=pair, starts_at=now + timedelta(hours=1),
                    ends_at=now + timedelta(hours=2))
    assert autofailover_decide(pair=pair, now=timezone.now()).code != "maintenance"


def test_window_input_is_checked(ops_fleet):
    from datetime import timedelta

    from django.utils import timezone

    from failover.services.windows import window_schedule

    now = timezone.now()
    with pytest.raises(ValidationError) as error:
        window_schedule(actor=ops_fleet.operator, pair=ops_fleet.pair, starts_at=now, ends_at=now)
    assert "ends_at" in error.value.message_dict
    with pytest.raises(ValidationError):
        window_schedule(actor=ops_fleet.operator, starts_at=now, ends_at=now + timedelta(hours=1))


def _upgrade(ops_fleet, appliance, version):
    ops_fleet.set_state(appliance, version=version, build="9999")


def test_pair_upgrade_guided_where_the_extension_actions_are_not_used(ops_fleet):
    """With ``guided`` (what a vendor-only appliance gets), the sync, the break and the establish are done by the
    person in /login and verified by the portal from what the appliances show."""
    from appliances.connect import ClientPurpose, appliance_client

    pair = ready_pair(ops_fleet)
    operation = ops_fleet.start_and_run(OperationKind.PAIR_UPGRADE, method="synchronous", guided=True)

    def person_does(step_name, action):
        nonlocal operation
        step = waiting_step(operation)
        assert step.name == step_name, (step.name, step.detail)
        operation_confirm(actor=ops_fleet.operator, operation=operation)
        assert waiting_step(ops_fleet.run(operation)).name == step_name  # not done yet: still waiting
        action()
        operation_confirm(actor=ops_fleet.operator, operation=operation)
        operation = ops_fleet.run(operation)

    def client(appliance):
        return appliance_client(appliance, purpose=ClientPurpose.INTERACTIVE)

    def sync_by_hand():
        client(pair.backup).sync_now()
        ops_fleet.sim.wait_for(lambda: not ops_fleet.state(pair.backup).get("sync_in_progress"))

    person_does("sync_start_sync", sync_by_hand)
    person_does("break_break", lambda: client(pair.primary).break_relationship())
    person_does("upgrade_a", lambda: _upgrade(ops_fleet, pair.primary, "25.2.0"))
    person_does("upgrade_b", lambda: _upgrade(ops_fleet, pair.backup, "25.2.0"))
    person_does("establish_establish", lambda: client(pair.primary).establish_relationship(
        backup_host=pair.backup_host, backup_port=pair.backup_port, reverse_host=pair.reverse_host,
        reverse_port=pair.reverse_port))
    assert operation.status == OperationStatus.SUCCEEDED, [(s.name, s.status, s.detail) for s in operation.steps.all()]
    assert (ops_fleet.role(pair.primary), ops_fleet.role(pair.backup)) == ("primary", "backup")


def test_a_runbooks_windows_put_the_pair_in_maintenance_at_once_and_closing_them_gives_it_back(ops_fleet):
    from failover.probing import probe_appliances
    from failover.services.windows import window_open_for_runbook, windows_close_for_operation

    pair = ops_fleet.pair
    probe_appliances([pair.primary_id, pair.backup_id])
    pair.refresh_from_db()
    assert pair.state == PairState.HEALTHY, pair.state_reason
    operation = ops_fleet.start(OperationKind.MAINTENANCE)
    for member in (pair.primary, pair.backup):
        window_open_for_runbook(operation=operation, appliance=member, minutes=60)
    pair.refresh_from_db()
    assert pair.state == PairState.MAINTENANCE  # at once, not at the members' next probe
    assert windows_close_for_operation(operation=operation) == 2
    pair.refresh_from_db()
    assert pair.state == PairState.HEALTHY, pair.state_reason
    assert windows_close_for_operation(operation=operation) == 0
