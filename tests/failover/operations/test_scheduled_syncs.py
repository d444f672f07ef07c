"""Scheduled syncs: started per the backup's interval (and the first sync after establishing), recorded in the
sync history; an appliance that already synced by itself is recorded, not synced again."""

from datetime import timedelta

import pytest
from django.utils import timezone

from failover.models import (
    BackupSettings,
    Operation,
    OperationKind,
    Pair,
    SyncRecord,
    SyncResult,
    SyncTrigger,
)
from failover.operations import run_operation
from failover.services.operations import syncs_schedule_due
from failover.services.pairs import backup_settings_update


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


def _overdue_retry(ops_fleet, **settings_fields):
    """The pair as a failed scheduled sync leaves it: a retry pending (next_sync_at in the past)."""
    pair = ops_fleet.pair
    BackupSettings.objects.filter(appliance=pair.backup).update(**settings_fields)
    Pair.objects.filter(pk=pair.pk).update(next_sync_at=timezone.now() - timedelta(seconds=1),
                                           last_sync_at=timezone.now() - timedelta(days=2))
    Pair.objects.exclude(pk=pair.pk).update(established_at=None)
    return pair


@pytest.mark.parametrize("settings_fields", [
    {"enable_backup_operations": False, "sync_interval": 3600},
    {"enable_backup_operations": True, "sync_interval": 0},
])
def test_no_scheduled_sync_while_the_backups_syncing_is_off_not_even_a_retry(ops_fleet, settings_fields):
    _overdue_retry(ops_fleet, **settings_fields)
    assert syncs_schedule_due() == []
    assert not Operation.objects.exists()


def test_a_pending_retry_is_still_run_while_syncing_is_on(ops_fleet):
    _overdue_retry(ops_fleet, enable_backup_operations=True, sync_interval=3600)
    assert len(syncs_schedule_due()) == 1


def test_turning_syncing_off_drops_the_pending_retry(ops_fleet):
    pair = _overdue_retry(ops_fleet, enable_backup_operations=True, sync_interval=3600)
    backup_settings_update(actor=ops_fleet.operator, backup_settings=pair.backup.backup_settings,
                           data={"sync_interval": 0})
    pair.refresh_from_db()
    assert pair.next_sync_at is None
    assert ops_fleet.state(pair.backup)["settings"]["sync_interval"] == 0
