"""Scheduled syncs: started per the backup's interval (and the first sync after establishing), recorded in the
sync history; an appliance that already synced by itself is recorded, not synced again."""

from datetime import timedelta

from django.utils import timezone

from failover.models import Operation, OperationKind, Pair, SyncRecord, SyncResult, SyncTrigger
from failover.operations import run_operation
from failover.services.operations import syncs_schedule_due


def test_due_pairs_get_a_scheduled_sync_and_are_not_due_again_right_after(ops_fleet):
    pair = ops_fleet.pair
    settings_row = pair.backup.backup_settings
    settings_row.sync_interval = 300  # the fleet's last sync was ten minutes ago: overdue
    settings_row.save()
    Pair.objects.filter(pk=pair.pk).update(last_sync_at=timezone.now() - timedelta(minutes=10))
    Pair.objects.exclude(pk=pair.pk).update(established_at=None)  # only this pair takes part

    started = syncs_schedule_due()
    assert len(started) == 1
    operation = Operation.objects.get(pk=started[0])
    assert operation.kind == OperationKind.SYNC and operation.requested_by is None
    assert syncs_schedule_due() == []  # one active at a time, and not due again
    assert run_operation(operation.pk) == "succeeded"
    record = SyncRecord.objects.get(operation=operation)
    assert record.trigger == SyncTrigger.SCHEDULE and record.result == SyncResult.SUCCEEDED
    pair.refresh_from_db()
    assert timezone.now() - pair.last_sync_at < timedelta(minutes=1)
    assert syncs_schedule_due() == []


def test_an_appliance_that_synced_by_itself_is_recorded_not_synced_again(ops_fleet):
    pair = ops_fleet.pair
    settings_row = pair.backup.backup_settings
    settings_row.sync_interval = 3600
    settings_row.save()
    # The appliance's own automatic sync just ran (outside the portal).
    assert ops_fleet.start_and_run(OperationKind.SYNC).status == "succeeded"
    SyncRecord.objects.all().delete()
    syncs_before = len(ops_fleet.state(pair.backup)["sync_history"])
    Pair.objects.filter(pk=pair.pk).update(next_sync_at=timezone.now() - timedelta(seconds=1))
    Pair.objects.exclude(pk=pair.pk).update(established_at=None)

    [operation_id] = syncs_schedule_due()
    run_operation(operation_id)
    operation = Operation.objects.get(pk=operation_id)
    assert operation.steps.get(name="start_sync").status == "skipped"
    assert len(ops_fleet.state(pair.backup)["sync_history"]) == syncs_before  # no second sync
    observed = SyncRecord.objects.filter(pair=pair, trigger=SyncTrigger.OBSERVED)
    assert observed.exists() and all(r.bytes_transferred for r in observed)
