"""Break and establish against the simulator, with the pre-checks explained before anything changes."""

import pytest
from django.core.exceptions import ValidationError

from failover.models import OperationKind, OperationStatus, StepStatus
from failover.operations import run_operation
from failover.services.operations import operation_confirm
from failover.services.pairs import pair_establish
from simulator.testing import ApplianceClient

from .conftest import step_statuses


def test_break_stops_the_relationship_and_keeps_the_copied_data(ops_fleet):
    pair = ops_fleet.pair
    copied = ops_fleet.state(pair.backup)["data"]
    operation = ops_fleet.start_and_run(OperationKind.BREAK)
    assert operation.status == OperationStatus.SUCCEEDED, operation.error
    assert (ops_fleet.role(pair.primary), ops_fleet.role(pair.backup)) == ("none", "none")
    assert ops_fleet.state(pair.backup)["data"] == copied
    pair.refresh_from_db()
    assert pair.broken_at is not None
    # No more syncs: the appliance refuses one.
    sync = ops_fleet.start_and_run(OperationKind.SYNC)
    assert sync.status == OperationStatus.FAILED


@pytest.fixture
def broken_pair(ops_fleet):
    assert ops_fleet.start_and_run(OperationKind.BREAK).status == OperationStatus.SUCCEEDED
    ops_fleet.pair.refresh_from_db()
    return ops_fleet


def test_establish_after_break_makes_primary_and_backup_and_plans_the_first_sync(broken_pair):
    fleet, pair = broken_pair, broken_pair.pair
    operation = pair_establish(actor=fleet.operator, pair=pair, reason="re-pair")
    fleet.run(operation)
    assert operation.status == OperationStatus.SUCCEEDED, operation.error
    assert (fleet.role(pair.primary), fleet.role(pair.backup)) == ("primary", "backup")
    assert fleet.state(pair.backup)["relationship"]["reverse_host"] == pair.primary.management_host
    pair.refresh_from_db()
    assert pair.established_at is not None and pair.broken_at is None
    assert 55 <= (pair.next_sync_at - pair.established_at).total_seconds() <= 65


def test_establish_prechecks_explain_every_failure_and_change_nothing(broken_pair):
    fleet, pair = broken_pair, broken_pair.pair
    fleet.set_state(pair.backup, build="99999-ffffffff", inter_appliance_key="another-key")
    pair.primary.addresses.all().delete()
    with pytest.raises(ValidationError) as caught:
        pair_establish(actor=fleet.operator, pair=pair, key_fingerprint="00" * 32)
    messages = " ".join(caught.value.messages)
    assert "same version and build" in messages
    assert "inter-appliance keys of the two appliances differ" in messages
    assert "no address on the subnet of the shared IP" in messages
    assert (fleet.role(pair.primary), fleet.role(pair.backup)) == ("none", "none")
    assert not pair.operations.filter(kind=OperationKind.ESTABLISH).exists()


def test_establish_refuses_a_wrong_fingerprint_entered_by_the_admin(broken_pair):
    fleet, pair = broken_pair, broken_pair.pair
    with pytest.raises(ValidationError, match="fingerprint you entered does not match"):
        pair_establish(actor=fleet.operator, pair=pair, key_fingerprint="ab" * 32)
    right = fleet.state(pair.primary)["inter_appliance_key_sha256"]
    assert pair_establish(actor=fleet.operator, pair=pair, key_fingerprint=right.upper())


def test_guided_establish_waits_for_the_operator_then_verifies_by_probe(broken_pair):
    fleet, pair = broken_pair, broken_pair.pair
    operation = pair_establish(actor=fleet.operator, pair=pair, guided=True)
    fleet.run(operation)
    step = operation.steps.get(name="establish")
    assert operation.status == OperationStatus.RUNNING and step.status == StepStatus.WAITING
    assert pair.backup_host in step.detail and "Establish Relationship" in step.detail

    operation_confirm(actor=fleet.operator, operation=operation)
    run_operation(operation.pk)  # the operator has not done it yet: still waiting
    assert operation.steps.get(name="establish").status == StepStatus.WAITING

    # The operator does it on the appliance's own page (here: the same action through the appliance API).
    ApplianceClient(fleet.sim, pair.primary.management_host).command(
        "x_establish_relationship", method="POST", backup_host=pair.backup_host, backup_port=pair.backup_port,
        reverse_host=pair.reverse_host, reverse_port=pair.reverse_port,
    )
    operation_confirm(actor=fleet.operator, operation=operation)
    operation = fleet.run(operation)
    assert operation.status == OperationStatus.SUCCEEDED, operation.error
    assert step_statuses(operation) == {"establish": "done", "verify_roles": "done", "record": "done"}


def test_establish_refuses_appliances_serving_different_certificates(broken_pair):
    factories = pytest.importorskip("tests.factories.certificates")
    fleet, pair = broken_pair, broken_pair.pair
    for member, fingerprint in ((pair.primary, "aa" * 32), (pair.backup, "bb" * 32)):
        for server_name in ("", pair.site_hostname):
            factories.ServedCertificateFactory(appliance=member, server_name=server_name,
                                               fingerprint_sha256=fingerprint, spki_sha256=fingerprint)
    with pytest.raises(ValidationError, match="do not serve the same certificate"):
        pair_establish(actor=fleet.operator, pair=pair)


def test_establish_checks_a_person_waits_for_are_short_and_read_both_members_at_once(broken_pair):
    import time

    from appliances.models import Appliance
    from failover.services.pairs import pair_establish_checks

    fleet, pair = broken_pair, broken_pair.pair
    Appliance.objects.filter(pk__in=[pair.primary_id, pair.backup_id]).update(probe_timeout=1)
    pair.primary.refresh_from_db()
    pair.backup.refresh_from_db()
    for member in pair.members:
        fleet.sim.set_fault(member.management_host, "slow", ms=2500)
    started = time.monotonic()
    checks = pair_establish_checks(pair=pair)
    elapsed = time.monotonic() - started
    unreachable = [c.message for c in checks if c.name == "reachable" and c.ok is False]
    assert len(unreachable) == 2  # each call gave up after the interactive (probe) timeout...
    assert elapsed < 2.0, elapsed  # ...and both members were read at the same time
