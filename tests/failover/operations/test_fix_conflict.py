"""Fix this error under each of the seed's criteria: shared IP enabled, DNS resolution, normal primary."""

import pytest

from failover.models import NetworkMethod, OperationKind, OperationStatus
from portal.models import Role

from .conftest import step_statuses
from .dns_server import TinyDNSServer


@pytest.fixture
def both_primary(ops_fleet):
    pair = ops_fleet.pair
    ops_fleet.set_state(pair.primary, data={"users": 11})
    ops_fleet.set_state(pair.backup, role="primary", data={"users": 22})
    return ops_fleet


def test_the_member_with_the_shared_ip_enabled_stays_primary(both_primary, settings):
    fleet, pair = both_primary, both_primary.pair
    # Only the normal backup has the shared IP configured, so only it has it enabled as primary.
    fleet.set_state(pair.primary, shared_ips=[])
    fleet.set_state(pair.backup, shared_ips=["127.250.0.1"])
    operation = fleet.start_and_run(OperationKind.FIX_CONFLICT)
    assert operation.status == OperationStatus.SUCCEEDED, operation.error
    assert (fleet.role(pair.backup), fleet.role(pair.primary)) == ("primary", "backup")
    assert "has the shared IP 127.250.0.1 enabled" in operation.steps.get(name="decide").detail
    # Then synced: configuration follows the rightful primary.
    assert fleet.state(pair.primary)["data"]["users"] == 22
    assert step_statuses(operation)["wait_sync"] == "done"
    # The loser's configuration was kept before the sync overwrote it.
    from appliances.models import ConfigurationBackup

    kept = ConfigurationBackup.objects.get(pk=operation.result["safety_backup_id"])
    assert kept.appliance_id == pair.primary_id and kept.size_bytes > 0


def test_the_member_the_site_name_resolves_to_stays_primary(both_primary, settings):
    fleet, pair = both_primary, both_primary.pair
    for member in pair.members:
        fleet.set_state(member, shared_ips=[])
    pair.network_method, pair.shared_ip = NetworkMethod.DNS_SWING, None
    pair.dns_zone = "sim.test"
    with TinyDNSServer({pair.site_hostname: pair.backup.management_host}) as dns:
        pair.dns_server, pair.dns_port = "127.0.0.1", dns.port
        pair.save()
        operation = fleet.start_and_run(OperationKind.FIX_CONFLICT)
    assert operation.status == OperationStatus.SUCCEEDED, operation.error
    decision = operation.steps.get(name="decide").detail
    assert f"resolves to {pair.backup.name} at the pair's DNS server" in decision
    assert (fleet.role(pair.backup), fleet.role(pair.primary)) == ("primary", "backup")


def test_otherwise_the_normal_primary_wins(both_primary, settings):
    fleet, pair = both_primary, both_primary.pair
    for member in pair.members:
        fleet.set_state(member, shared_ips=[])
    with TinyDNSServer({}) as dns:
        settings.FAILOVER_DNS_RESOLVER = dns.address
        operation = fleet.start_and_run(OperationKind.FIX_CONFLICT)
    assert operation.status == OperationStatus.SUCCEEDED, operation.error
    assert "is the normal primary" in operation.steps.get(name="decide").detail
    assert (fleet.role(pair.primary), fleet.role(pair.backup)) == ("primary", "backup")
    assert fleet.state(pair.backup)["data"]["users"] == 11


def test_both_backup_is_fixed_by_promoting_the_rightful_primary(ops_fleet, settings):
    pair = ops_fleet.pair
    ops_fleet.set_state(pair.primary, role="backup")
    with TinyDNSServer({}) as dns:
        settings.FAILOVER_DNS_RESOLVER = dns.address
        operation = ops_fleet.start_and_run(OperationKind.FIX_CONFLICT)
    assert operation.status == OperationStatus.SUCCEEDED, operation.error
    assert (ops_fleet.role(pair.primary), ops_fleet.role(pair.backup)) == ("primary", "backup")


def test_no_conflict_means_nothing_is_changed(ops_fleet):
    operation = ops_fleet.start_and_run(OperationKind.FIX_CONFLICT)
    assert operation.status == OperationStatus.SUCCEEDED
    assert step_statuses(operation)["apply_roles"] == "skipped"
    assert "No conflict" in operation.steps.get(name="read_roles").detail


def _portal_promoted_backup_then_old_primary_returned(fleet):
    """Observation 1: the primary died, the operator promoted the backup from the portal, the old primary came
    back still primary. Both enable the shared IP; DNS says nothing."""
    pair = fleet.pair
    fleet.set_state(pair.primary, data={"users": 11})
    fleet.sim.set_fault(pair.primary.management_host, "down")
    promoted = fleet.start_and_run(OperationKind.BECOME_PRIMARY, appliance=pair.backup)
    assert promoted.status == OperationStatus.SUCCEEDED, promoted.error
    fleet.set_state(pair.backup, data={"users": 22})  # served the outage: the newest data
    fleet.sim.clear_faults()
    fleet.set_state(pair.primary, role="primary")
    for member in pair.members:
        fleet.set_state(member, shared_ips=["127.250.0.1"])
    return pair


def test_the_member_the_portal_made_primary_last_survives(ops_fleet, settings):
    pair = _portal_promoted_backup_then_old_primary_returned(ops_fleet)
    with TinyDNSServer({}) as dns:
        settings.FAILOVER_DNS_RESOLVER = dns.address
        operation = ops_fleet.start_and_run(OperationKind.FIX_CONFLICT)
    assert operation.status == OperationStatus.SUCCEEDED, operation.error
    assert (ops_fleet.role(pair.backup), ops_fleet.role(pair.primary)) == ("primary", "backup")
    assert ops_fleet.state(pair.primary)["data"]["users"] == 22, "the stale member was overwritten, not the other"
    assert operation.result["decided_by"] == "Whom the portal made primary last"


def test_preview_shows_decision_and_evidence_and_acts_only_on_confirmation(ops_fleet, settings, make_member, login):
    from failover.models import Operation

    pair = _portal_promoted_backup_then_old_primary_returned(ops_fleet)
    client = login(make_member(ops_fleet.organization, Role.OPERATOR))
    with TinyDNSServer({}) as dns:
        settings.FAILOVER_DNS_RESOLVER = dns.address
        page = client.get(f"/failover/pairs/{pair.pk}/fix-conflict/").content.decode()
        assert f"Decision: <strong>{pair.backup.name}</strong> primary" in page
        assert "Whom the portal made primary last" in page and "Become primary #" in page
        assert f"{pair.primary.name}&#x27;s /login configuration is overwritten" in page
        assert 'name="force"' in page  # two primaries: the vendor's force applies
        before = Operation.objects.filter(kind=OperationKind.FIX_CONFLICT).count()
        # Without the confirmation nothing starts.
        client.post(f"/failover/pairs/{pair.pk}/fix-conflict/", {"winner": pair.backup_id})
        assert Operation.objects.filter(kind=OperationKind.FIX_CONFLICT).count() == before
        client.post(f"/failover/pairs/{pair.pk}/fix-conflict/", {"winner": pair.backup_id, "confirm": "on"})
        operation = Operation.objects.get(kind=OperationKind.FIX_CONFLICT)
        operation = ops_fleet.run(operation)
    assert operation.status == OperationStatus.SUCCEEDED, operation.error
    assert (ops_fleet.role(pair.backup), ops_fleet.role(pair.primary)) == ("primary", "backup")


def test_a_decision_that_changed_since_the_preview_is_not_acted_on(both_primary, settings):
    fleet, pair = both_primary, both_primary.pair
    fleet.set_state(pair.primary, shared_ips=["127.250.0.1"])
    fleet.set_state(pair.backup, shared_ips=[])
    operation = fleet.start_and_run(OperationKind.FIX_CONFLICT, winner=pair.backup_id)
    assert operation.status == OperationStatus.CANCELLED
    assert "evidence changed since the preview" in operation.error
    assert (fleet.role(pair.primary), fleet.role(pair.backup)) == ("primary", "primary")


def test_in_a_partition_force_is_offered_and_a_fighting_builtin_failover_is_named(both_primary, settings):
    fleet, pair = both_primary, both_primary.pair
    for member in pair.members:
        fleet.set_state(member, shared_ips=[])
    fleet.sim.set_fault(pair.backup.management_host, "partition")
    with TinyDNSServer({}) as dns:
        settings.FAILOVER_DNS_RESOLVER = dns.address
        refused = fleet.start_and_run(OperationKind.FIX_CONFLICT)
        assert refused.status == OperationStatus.CANCELLED
        assert "with force" in refused.error  # Observation 12: it says how to proceed
        # The backup's own automatic failover is on: forced to backup, it promotes itself again.
        fleet.set_state(pair.backup, settings={"automatic_failover": True, "primary_timeout": 1,
                                               "enable_backup_operations": True})
        from failover.models import BackupSettings

        BackupSettings.objects.update_or_create(appliance=pair.backup, defaults={
            "organization": pair.organization, "automatic_failover": True, "enable_backup_operations": True})
        forced = fleet.start_and_run(OperationKind.FIX_CONFLICT, force=True)
    assert forced.status == OperationStatus.CANCELLED, forced.error
    assert "built-in) automatic failover promoted it" in forced.error
