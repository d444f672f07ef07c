"""Vendor-only pairs (the vendor API alone): automatic syncs are the appliance's own job and the probes record
them; nothing scheduled waits for a person; a guided step never holds up a role change or automatic failover."""

from datetime import timedelta

import pytest
from django.utils import timezone

from failover.models import (
    Operation,
    OperationKind,
    OperationStatus,
    Pair,
    StepStatus,
    SyncRecord,
    SyncResult,
    SyncTrigger,
)
from failover.operations import run_operation
from failover.probing import probe_appliances
from failover.services.operations import operation_confirm, operation_start, syncs_schedule_due
from portal.models import AuditEvent
from portal.permissions import SYSTEM


@pytest.fixture
def vendor_fleet(ops_fleet):
    ops_fleet.sim.set_profile("vendor")
    return ops_fleet


def _overdue(ops_fleet):
    pair = ops_fleet.pair
    settings_row = pair.backup.backup_settings
    settings_row.sync_interval = 300
    settings_row.save()
    Pair.objects.filter(pk=pair.pk).update(last_sync_at=timezone.now() - timedelta(minutes=10))
    Pair.objects.exclude(pk=pair.pk).update(established_at=None)
    return pair


def test_no_sync_is_scheduled_on_a_vendor_only_backup(vendor_fleet):
    pair = _overdue(vendor_fleet)
    syncs_before = len(vendor_fleet.state(pair.backup)["sync_history"])
    # Capabilities not read yet: the scheduled sync starts, learns the backup is vendor-only, and steps aside.
    [operation_id] = syncs_schedule_due()
    assert run_operation(operation_id) == OperationStatus.SUCCEEDED
    operation = Operation.objects.get(pk=operation_id)
    steps = {step.name: step for step in operation.steps.all()}
    assert steps["start_sync"].status == StepStatus.SKIPPED and "vendor API only" in steps["start_sync"].detail
    assert not operation.steps.filter(status=StepStatus.WAITING).exists()
    pair.backup.refresh_from_db()
    assert pair.backup.extension_actions == []
    # Now known: not even started again, however overdue.
    Pair.objects.filter(pk=pair.pk).update(next_sync_at=timezone.now() - timedelta(seconds=1))
    assert syncs_schedule_due() == []
    assert len(vendor_fleet.state(pair.backup)["sync_history"]) == syncs_before  # the portal never synced anything


def test_an_extended_backup_still_gets_its_scheduled_sync(ops_fleet):
    pair = _overdue(ops_fleet)
    [operation_id] = syncs_schedule_due()
    assert run_operation(operation_id) == OperationStatus.SUCCEEDED
    assert SyncRecord.objects.get(operation_id=operation_id).result == SyncResult.SUCCEEDED
    pair.backup.refresh_from_db()
    assert "x_sync_now" in pair.backup.extension_actions


def _guided_sync(fleet):
    operation = fleet.run(fleet.start(OperationKind.SYNC))
    assert operation.status == OperationStatus.RUNNING
    assert operation.steps.get(name="start_sync").status == StepStatus.WAITING
    return operation


def test_sync_now_is_a_guided_step_verified_by_the_next_sync_time(vendor_fleet):
    pair = vendor_fleet.pair
    operation = _guided_sync(vendor_fleet)
    assert "Sync Now" in operation.steps.get(name="start_sync").detail
    # Confirmed before anything happened: still waiting, nothing recorded.
    operation_confirm(actor=vendor_fleet.operator, operation=operation)
    assert run_operation(operation.pk) == "waiting"
    assert not SyncRecord.objects.filter(pair=pair).exists()
    # The person clicks "Sync Now" on the appliance (its own sync, as the vendor's page does it).
    vendor_fleet.sim.set_profile("extended", [pair.backup.management_host])
    from simulator.testing import ApplianceClient

    ApplianceClient(vendor_fleet.sim, vendor_fleet.state(pair.backup)["name"]).command("x_sync_now", method="POST")
    vendor_fleet.sim.wait_for(lambda: vendor_fleet.state(pair.backup)["last_sync"]["finished"] and
                              not vendor_fleet.state(pair.backup)["sync_in_progress"])
    vendor_fleet.sim.set_profile("vendor", [pair.backup.management_host])
    operation_confirm(actor=vendor_fleet.operator, operation=operation)
    assert run_operation(operation.pk) == OperationStatus.SUCCEEDED
    record = SyncRecord.objects.get(operation=operation)
    assert record.result == SyncResult.SUCCEEDED and not record.start_reported
    assert int(record.finished_at.timestamp()) == int(vendor_fleet.state(pair.backup)["last_sync"]["finished"])


@pytest.mark.parametrize("kind, side", [(OperationKind.BECOME_BACKUP, "primary"),
                                        (OperationKind.BECOME_PRIMARY, "backup")])
def test_a_role_change_closes_a_waiting_guided_step_and_runs(vendor_fleet, kind, side):
    pair = vendor_fleet.pair
    guided = _guided_sync(vendor_fleet)
    change = vendor_fleet.start_and_run(kind, appliance=getattr(pair, side))
    assert change.status == OperationStatus.SUCCEEDED, change.error
    assert (vendor_fleet.role(pair.primary), vendor_fleet.role(pair.backup)) == ("backup", "primary")
    guided.refresh_from_db()
    assert guided.status == OperationStatus.CANCELLED
    assert "takes precedence" in guided.error and vendor_fleet.operator.username in guided.error
    assert guided.steps.get(name="start_sync").status == StepStatus.SKIPPED
    assert AuditEvent.objects.filter(verb="close guided operation", object_id=str(guided.pk)).exists()


def test_automatic_failover_is_never_refused_as_busy_by_a_guided_step(vendor_fleet):
    guided = _guided_sync(vendor_fleet)
    failover = operation_start(actor=SYSTEM, pair=vendor_fleet.pair, kind=OperationKind.AUTO_FAILOVER,
                               reason="primary unreachable")
    guided.refresh_from_db()
    assert failover.status == OperationStatus.PENDING
    assert guided.status == OperationStatus.CANCELLED and "automatic failover" in guided.error.lower()


def test_a_sync_does_not_close_another_sync_waiting_for_a_person(vendor_fleet):
    _guided_sync(vendor_fleet)
    with pytest.raises(Exception, match="already running"):
        vendor_fleet.start(OperationKind.SYNC)


def test_probes_build_the_sync_history_from_observed_sync_times(vendor_fleet):
    pair = vendor_fleet.pair
    members = [pair.primary.pk, pair.backup.pk]
    probe_appliances(members)
    first = list(SyncRecord.objects.filter(pair=pair))
    # The fleet's pairs start synced ten minutes ago: seen once, although both members report it.
    assert len(first) == 1 and first[0].trigger == SyncTrigger.OBSERVED and not first[0].start_reported
    assert first[0].result == SyncResult.SUCCEEDED and first[0].duration_seconds is None
    probe_appliances(members)
    assert SyncRecord.objects.filter(pair=pair).count() == 1  # no new sync, no new row
    # The appliance syncs by itself (its own schedule): the next probe records it.
    baseline = len(vendor_fleet.state(pair.backup)["sync_history"])
    vendor_fleet.set_state(pair.backup, settings={"sync_interval": 1})
    vendor_fleet.sim.wait_for(lambda: len(vendor_fleet.state(pair.backup)["sync_history"]) > baseline, timeout=20)
    vendor_fleet.set_state(pair.backup, settings={"sync_interval": 0})
    vendor_fleet.sim.wait_for(lambda: not vendor_fleet.state(pair.backup)["sync_in_progress"])
    probe_appliances(members)
    records = list(SyncRecord.objects.filter(pair=pair).order_by("finished_at"))
    assert len(records) >= 2
    last = vendor_fleet.state(pair.backup)["last_sync"]
    assert int(records[-1].finished_at.timestamp()) == int(last["finished"])
    pair.refresh_from_db()
    assert pair.last_sync_at == records[-1].finished_at


@pytest.mark.parametrize("profile", ["vendor", "extended"])
def test_version_and_build_from_health_answers_go_into_the_inventory(ops_fleet, profile):
    ops_fleet.sim.set_profile(profile)
    appliance = ops_fleet.pair.backup
    type(appliance).objects.filter(pk=appliance.pk).update(product_version="", build="")
    ops_fleet.set_state(appliance, version="24.3.2", build="41300-feedbeef")
    probe_appliances([appliance.pk])
    appliance.refresh_from_db()
    assert (appliance.product_version, appliance.build) == ("24.3.2", "41300-feedbeef")
