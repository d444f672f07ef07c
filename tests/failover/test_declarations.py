"""Settings the vendor API cannot read or write are declarations, never shown as applied; unknown settings are
said to be unknown, and automatic failover does not act on defaults."""

from datetime import timedelta

import pytest
from django.utils import timezone

from failover.models import BackupSettings, Pair, PairState, Provenance
from failover.services.autofailover import autofailover_decide
from failover.services.pairs import backup_settings_update, shared_ips_set
from portal.models import AuditEvent, Role
from tests.failover.operations.conftest import ops_fleet  # noqa: F401  (fixture)

SETTINGS = {"enable_backup_operations": True, "primary_timeout": 600, "sync_interval": 7200, "bandwidth_limit": 800,
            "automatic_failover": False, "connectivity_test_ips": ["192.0.2.1"]}


def test_backup_settings_of_a_vendor_only_appliance_are_a_declaration(ops_fleet, login, api_as):  # noqa: F811
    ops_fleet.sim.set_profile("vendor")
    backup = ops_fleet.pair.backup
    before = ops_fleet.state(backup)["settings"]
    row = backup_settings_update(actor=ops_fleet.operator, backup_settings=backup.backup_settings, data=SETTINGS)
    assert row.provenance == Provenance.DECLARED and row.declared_by == ops_fleet.operator
    assert row.read_from_appliance_at is None
    assert ops_fleet.state(backup)["settings"] == before  # nothing reached the appliance
    page = login(ops_fleet.operator).get(ops_fleet.pair.get_absolute_url()).content.decode()
    assert "declared, not applied by the portal" in page and "Backup Settings" in page
    assert "Primary Site Instance Timeout: 600 seconds." in page
    body = api_as(ops_fleet.operator).get(f"/api/v1/backup-settings/{row.pk}/").json()
    assert body["provenance"] == "declared" and body["declared_by"] == ops_fleet.operator.username
    assert any("Automatic Data-Sync Interval: 2 h 0 min" in step for step in body["apply_steps"])


def test_backup_settings_of_an_extended_appliance_are_applied_and_read(ops_fleet):  # noqa: F811
    backup = ops_fleet.pair.backup
    row = backup_settings_update(actor=ops_fleet.operator, backup_settings=backup.backup_settings, data=SETTINGS)
    assert row.provenance == Provenance.READ and row.declared_at is None
    assert ops_fleet.state(backup)["settings"]["primary_timeout"] == 600


def test_shared_ips_on_a_vendor_only_appliance_are_declared_with_the_steps(ops_fleet):  # noqa: F811
    ops_fleet.sim.set_profile("vendor")
    primary = ops_fleet.pair.primary
    before = ops_fleet.state(primary)["shared_ips"]
    warnings = shared_ips_set(actor=ops_fleet.operator, appliance=primary, ips=["127.250.0.9"])
    assert warnings[0].startswith("Declared, not applied") and "select exactly: 127.250.0.9" in warnings[0]
    assert ops_fleet.state(primary)["shared_ips"] == before
    assert AuditEvent.objects.filter(verb="declare shared IPs", object_id=str(primary.pk)).exists()


def test_unknown_settings_are_shown_as_unknown_and_automatic_failover_does_not_assume_them(ops_fleet, login):  # noqa: F811
    pair = ops_fleet.pair
    BackupSettings.objects.filter(appliance=pair.backup).update(read_from_appliance_at=None, declared_at=None,
                                                               connectivity_test_ips=["127.0.0.1"])
    page = login(ops_fleet.operator).get(pair.get_absolute_url()).content.decode()
    assert "never read from the appliance nor declared" in page
    now = timezone.now()
    Pair.objects.filter(pk=pair.pk).update(portal_auto_failover=True, state=PairState.PRIMARY_UNREACHABLE,
                                           primary_unreachable_since=now - timedelta(hours=1))
    pair = Pair.objects.select_related("primary__backup_settings", "backup__backup_settings").get(pk=pair.pk)
    decision = autofailover_decide(pair=pair, now=now)
    assert decision.code == "unknown_settings" and "does not assume defaults" in decision.reason


@pytest.mark.parametrize("role", [Role.VIEWER])
def test_declaring_needs_the_admin_role(ops_fleet, make_member, role):  # noqa: F811
    with pytest.raises(Exception, match="admin"):
        backup_settings_update(actor=make_member(ops_fleet.organization, role), data=SETTINGS,
                               backup_settings=ops_fleet.pair.backup.backup_settings)


def test_observed_sync_cadence_beside_the_declared_interval_with_advice(ops_fleet, login):  # noqa: F811
    from failover.models import SyncRecord, SyncResult, SyncTrigger
    from failover.selectors import pair_sync_cadence

    pair = ops_fleet.pair
    backup_settings_update(actor=ops_fleet.operator, backup_settings=pair.backup.backup_settings,
                           data={"sync_interval": 3600}, apply=False)
    now = timezone.now()
    for hours in (6, 4, 2):  # the appliance really syncs every two hours; vendor-only: no start reported
        end = now - timedelta(hours=hours)
        SyncRecord.objects.create(organization=pair.organization, pair=pair, trigger=SyncTrigger.OBSERVED,
                                  started_at=end, finished_at=end, start_reported=False, result=SyncResult.SUCCEEDED)
    pair = Pair.objects.select_related("backup__backup_settings").get(pk=pair.pk)
    cadence = pair_sync_cadence(pair=pair)
    assert cadence.observed_interval == timedelta(hours=2) and cadence.usual_duration is None
    assert cadence.declared_interval == timedelta(hours=1)
    assert "about every 2:00:00" in cadence.advice and "every 1:00:00" in cadence.advice
    page = login(ops_fleet.operator).get(pair.get_absolute_url()).content.decode()
    assert "a sync about every 2:00:00" in page and "duration not reported" in page and cadence.advice in page
    # A matching declaration: no advice.
    backup_settings_update(actor=ops_fleet.operator, backup_settings=pair.backup.backup_settings,
                           data={"sync_interval": 7200}, apply=False)
    pair = Pair.objects.select_related("backup__backup_settings").get(pk=pair.pk)
    assert pair_sync_cadence(pair=pair).advice == ""
