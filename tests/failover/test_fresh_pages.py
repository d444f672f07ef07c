"""Observation 9: after a swap the pair page showed the old roles until the next probe; recent operations, sync
history and last sync did not update live."""

from failover.models import OperationKind, OperationStatus, SyncRecord, SyncResult
from failover.probing import probe_appliances
from portal.models import Role
from tests.failover.operations.conftest import ops_fleet  # noqa: F401  (fixture)


def test_the_end_of_an_operation_probes_both_members(ops_fleet):  # noqa: F811
    pair = ops_fleet.pair
    probe_appliances([pair.primary_id, pair.backup_id])
    operation = ops_fleet.start_and_run(OperationKind.BECOME_BACKUP, appliance=pair.primary)
    assert operation.status == OperationStatus.SUCCEEDED, operation.error
    # No probe by the test since the swap: the operation's own end probe recorded the new roles.
    pair.primary.refresh_from_db()
    pair.backup.refresh_from_db()
    pair.refresh_from_db()
    assert (pair.primary.status_role, pair.backup.status_role) == ("backup", "primary")
    assert pair.state == "running_on_backup"


def test_the_pair_page_polls_its_activity_and_the_fragment_shows_new_operations_and_syncs(
        ops_fleet, make_member, login):  # noqa: F811
    pair = ops_fleet.pair
    client = login(make_member(ops_fleet.organization, Role.OPERATOR))
    page = client.get(pair.get_absolute_url()).content.decode()
    assert f'hx-get="/failover/pairs/{pair.pk}/activity/" hx-trigger="every 5s"' in page
    fragment = client.get(f"/failover/pairs/{pair.pk}/activity/").content.decode()
    assert "None yet." in fragment and "No syncs recorded yet." in fragment

    operation = ops_fleet.start_and_run(OperationKind.SYNC)
    fragment = client.get(f"/failover/pairs/{pair.pk}/activity/").content.decode()
    assert f"Sync now #{operation.pk}" in fragment
    assert SyncRecord.objects.filter(pair=pair, result=SyncResult.SUCCEEDED).exists()
    assert "Succeeded" in fragment.split('id="sync-history"')[1]
    assert "Last sync: never" not in fragment


def test_another_organisations_activity_is_a_404(ops_fleet, make_member, login, org_b):  # noqa: F811
    client = login(make_member(org_b, Role.ADMIN))
    assert client.get(f"/failover/pairs/{ops_fleet.pair.pk}/activity/").status_code == 404
