"""Fix this error under each of the seed's criteria: shared IP enabled, DNS resolution, normal primary."""

import pytest

from failover.models import NetworkMethod, OperationKind, OperationStatus

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
    assert "has the shared IP enabled" in operation.steps.get(name="decide").detail
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
    assert f"resolves to {pair.backup.management_host}" in decision
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
