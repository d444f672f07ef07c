"""Observation 6: every role change ends with the same swing step (the DNS case without an update key is in
tests/failover/swing/test_dns.py, against Knot)."""

from failover.models import OperationKind, OperationStatus


def test_a_manual_swap_on_a_shared_ip_pair_verifies_where_the_shared_ip_went(ops_fleet):
    pair = ops_fleet.pair
    operation = ops_fleet.start_and_run(OperationKind.BECOME_BACKUP, appliance=pair.primary)
    assert operation.status == OperationStatus.SUCCEEDED, operation.error
    detail = operation.steps.get(name="swing").detail
    assert f"{pair.backup.name} is primary with the shared IP 127.250.0.1 enabled" in detail
    assert f"{pair.primary.name} has it disabled" in detail
