"""DNS swing against a real authoritative server (Knot DNS) that takes TSIG-signed RFC 2136 updates."""

import base64

import pytest

from failover.alerts import AlertKind
from failover.models import OperationStatus, Pair
from failover.swing import SwingError, driver_for
from failover.swing.dns import DnsSwing
from portal.models import Alert
from portal.permissions import SYSTEM

from .knot import ALGORITHM, KEY_NAME, KnotServer


@pytest.fixture
def dns_pair(swing_fleet):
    """The fleet's first pair switched to DNS swing, its site name served by a fresh Knot zone that points at
    the primary, with the zone's TSIG key stored (encrypted) on the pair."""
    pair = swing_fleet.pair
    zone = pair.site_hostname.split(".", 1)[1]
    server = KnotServer(zone, {pair.site_hostname.split(".", 1)[0]: pair.primary.management_host}).start()
    try:
        pair.network_method, pair.dns_server, pair.dns_port, pair.dns_zone = "dns_swing", "127.0.0.1", server.port, zone
        pair.dns_tsig_key_name, pair.dns_tsig_secret, pair.dns_tsig_algorithm = KEY_NAME, server.secret, ALGORITHM
        pair.dns_ttl = 30
        pair.save()
        swing_fleet.pair = Pair.objects.select_related("organization", "backup__backup_settings").get(pk=pair.pk)
        yield swing_fleet, server
    finally:
        server.stop()


def test_dns_swing_points_the_record_at_the_backup(dns_pair):
    fleet, server = dns_pair
    pair = fleet.pair
    driver = driver_for(pair)
    assert isinstance(driver, DnsSwing)
    assert server.addresses(pair.site_hostname) == {pair.primary.management_host}
    assert driver.currently_serving(pair) == pair.primary

    detail = driver.point_site_at(pair, pair.backup)

    assert server.addresses(pair.site_hostname) == {pair.backup.management_host}
    assert driver.currently_serving(pair) == pair.backup
    assert "TTL (30 s)" in detail
    assert "DDNS, finished" in server.log()


def test_a_wrong_tsig_secret_is_refused_and_the_record_stays(dns_pair):
    fleet, server = dns_pair
    pair = fleet.pair
    pair.dns_tsig_secret = base64.b64encode(b"not the server's secret, 32 byte").decode()

    with pytest.raises(SwingError, match="BADSIG"):
        driver_for(pair).point_site_at(pair, pair.backup)
    assert server.addresses(pair.site_hostname) == {pair.primary.management_host}


def test_the_verification_queries_are_signed_with_the_pairs_key(dns_pair):
    fleet, _server = dns_pair
    pair = fleet.pair
    assert driver_for(pair).currently_serving(pair) == pair.primary
    # Signed with a secret the server does not share, the read-back is rejected: the queries carry TSIG.
    pair.dns_tsig_secret = base64.b64encode(b"not the server's secret, 32 byte").decode()
    with pytest.raises(SwingError, match="BADSIG"):
        driver_for(pair).currently_serving(pair)


def test_an_unknown_tsig_key_name_is_refused(dns_pair):
    fleet, server = dns_pair
    pair = fleet.pair
    pair.dns_tsig_key_name = "someone-else."

    with pytest.raises(SwingError, match="BADKEY"):
        driver_for(pair).point_site_at(pair, pair.backup)
    assert server.addresses(pair.site_hostname) == {pair.primary.management_host}


def test_an_unsigned_update_is_refused_by_the_zone_policy(dns_pair):
    fleet, server = dns_pair
    pair = fleet.pair
    pair.dns_tsig_key_name = ""

    with pytest.raises(SwingError, match="NOTAUTH"):
        driver_for(pair).point_site_at(pair, pair.backup)
    assert server.addresses(pair.site_hostname) == {pair.primary.management_host}


def test_automatic_failover_swings_dns_to_the_new_primary(dns_pair):
    fleet, server = dns_pair
    fleet.take_primary_down()

    operation = fleet.run(fleet.evaluate().operation)

    assert operation.status == OperationStatus.SUCCEEDED, operation.error
    pair = fleet.pair
    assert fleet.role(pair.backup) == "primary"
    assert server.addresses(pair.site_hostname) == {pair.backup.management_host}
    swing_step = operation.steps.get(name="swing")
    assert pair.backup.management_host in swing_step.detail
    assert Alert.objects.filter(pair=pair, kind=AlertKind.FAILOVER).count() == 1


def test_automatic_failover_with_a_wrong_tsig_key_fails_with_a_clear_recorded_error(dns_pair):
    fleet, server = dns_pair
    Pair.objects.filter(pk=fleet.pair.pk).update(
        dns_tsig_secret=base64.b64encode(b"not the server's secret, 32 byte").decode())
    fleet.take_primary_down()

    operation = fleet.run(fleet.evaluate().operation)

    assert operation.status == OperationStatus.FAILED
    assert "rejected the TSIG signature (BADSIG)" in operation.error
    step = operation.steps.get(name="swing")
    assert step.status == "failed" and "BADSIG" in step.detail
    # The site name still leads to the old address: nothing claims the traffic moved.
    assert server.addresses(fleet.pair.site_hostname) == {fleet.pair.primary.management_host}
    assert not Alert.objects.filter(pair=fleet.pair, kind=AlertKind.FAILOVER, subject__contains="done").exists()


def test_become_primary_without_an_update_key_guides_the_exact_record_and_verifies_it(dns_pair):
    """Observation 6: a manual role change left DNS clients on the dead appliance, and nothing said so."""
    import copy

    from failover.models import OperationKind, StepStatus
    from failover.operations import run_operation
    from failover.services.operations import operation_start

    fleet, server = dns_pair
    pair = fleet.pair
    keyed = copy.copy(pair)  # the key stays with the person at the DNS server, not in the portal
    Pair.objects.filter(pk=pair.pk).update(dns_tsig_key_name="", dns_tsig_secret="")
    operation = operation_start(actor=SYSTEM, pair=pair, kind=OperationKind.BECOME_PRIMARY, appliance=pair.backup)
    run_operation(operation.pk)
    operation.refresh_from_db()
    step = operation.steps.get(name="swing")
    assert step.status == StepStatus.WAITING
    assert f"“{pair.site_hostname}. 30 IN A {pair.backup.management_host}”" in step.detail
    assert (fleet.role(pair.backup), fleet.role(pair.primary)) == ("primary", "backup")

    run_operation(operation.pk)  # "I did it" before doing it: verification fails, still waiting
    assert operation.steps.get(name="swing").status == StepStatus.WAITING

    DnsSwing().point_site_at(keyed, pair.backup)  # the operator changes the record
    run_operation(operation.pk)
    operation.refresh_from_db()
    assert operation.status == OperationStatus.SUCCEEDED, operation.error
    assert operation.steps.get(name="swing").detail == f"Verified: The site's traffic reaches {pair.backup.name}."


def test_a_runbook_without_the_dns_key_guides_the_swing_and_verifies_it(dns_pair):
    """Runbooks end their role changes with the same swing step: without a key it names the record to change."""
    import copy

    from failover.models import OperationKind, PairState, StepStatus
    from failover.operations import run_operation
    from failover.services.operations import operation_start

    fleet, server = dns_pair
    pair = fleet.pair
    keyed = copy.copy(pair)
    Pair.objects.filter(pk=pair.pk).update(dns_tsig_key_name="", dns_tsig_secret="", state=PairState.HEALTHY)
    operation = operation_start(actor=SYSTEM, pair=pair, kind=OperationKind.MAINTENANCE,
                                params={"window_minutes": 60})
    run_operation(operation.pk)
    step = operation.steps.get(name="swing_out")
    assert step.status == StepStatus.WAITING, (operation.steps.values_list("name", "status", "detail"))
    assert f"“{pair.site_hostname}. 30 IN A {pair.backup.management_host}”" in step.detail

    DnsSwing().point_site_at(keyed, pair.backup)  # the operator changes the record
    run_operation(operation.pk)
    step.refresh_from_db()
    assert step.status == StepStatus.DONE
    operation.refresh_from_db()
    assert [c["change"] for c in operation.result["role_changes"]] == ["swap_out"]  # RTO recorded on arrival


def run_evacuation(fleet, evacuation):
    """What the beat task and the workers do, here: advance, run each started switchover, until it ends."""
    from failover.models import EvacuationStatus
    from failover.services.evacuations import evacuation_advance

    for _round in range(10):
        evacuation_advance(evacuation_id=evacuation.pk)
        evacuation.refresh_from_db()
        if evacuation.status != EvacuationStatus.RUNNING:
            return evacuation
        for item in evacuation.items.filter(operation__isnull=False):
            fleet.run(item.operation)
    raise AssertionError("the evacuation did not finish")


def test_evacuating_a_location_swings_a_dns_pairs_record_there_and_back(dns_pair):
    """Each switchover of an evacuation is a role change, so it ends with the one swing step: the site name
    follows the new primary, and comes back with the return."""
    from appliances.models import Appliance
    from failover.models import EvacuationItemStatus, EvacuationStatus
    from failover.services.evacuations import evacuation_plan, evacuation_start

    fleet, server = dns_pair
    pair = fleet.pair
    Appliance.objects.filter(pk=pair.primary_id).update(location="PAR-1")
    Appliance.objects.filter(pk=pair.backup_id).update(location="LYO-2")
    fleet.probe()

    evacuation = evacuation_plan(actor=SYSTEM, organization=fleet.organization, location="PAR-1")
    assert list(evacuation.items.values_list("pair_id", flat=True)) == [pair.pk], evacuation.blocked
    evacuation = run_evacuation(fleet, evacuation_start(actor=SYSTEM, evacuation=evacuation))
    assert evacuation.status == EvacuationStatus.DONE
    item = evacuation.items.get()
    assert item.status == EvacuationItemStatus.DONE, item.detail
    assert fleet.role(pair.backup) == "primary"
    assert server.addresses(pair.site_hostname) == {pair.backup.management_host}
    swing = item.operation.steps.get(name="swing")
    assert swing.status == "done" and pair.backup.management_host in swing.detail

    fleet.probe()
    back = evacuation_plan(actor=SYSTEM, organization=fleet.organization, location="PAR-1", direction="return")
    back = run_evacuation(fleet, evacuation_start(actor=SYSTEM, evacuation=back))
    assert back.status == EvacuationStatus.DONE, list(back.items.values_list("detail", flat=True))
    assert fleet.role(pair.primary) == "primary"
    assert server.addresses(pair.site_hostname) == {pair.primary.management_host}
