"""Shared IP: the address follows the primary role on the appliances; automatic failover must never leave it
enabled on both members, which the simulator's state is sampled for throughout the operation."""


import pytest
from django.utils import timezone

from failover.alerts import AlertKind
from failover.models import OperationKind, OperationStatus
from failover.services.autofailover import autofailovers_evaluate
from failover.swing import SwingError, driver_for
from failover.swing.shared_ip import SharedIpSwing
from portal.models import Alert

from .fixtures import SharedIpSampler


def test_currently_serving_is_the_member_with_the_shared_ip_enabled(swing_fleet):
    pair = swing_fleet.pair
    driver = driver_for(pair)
    assert isinstance(driver, SharedIpSwing)
    assert driver.currently_serving(pair) == pair.primary
    assert "has it disabled" in driver.point_site_at(pair, pair.primary)


def test_pointing_the_shared_ip_at_a_backup_is_refused(swing_fleet):
    pair = swing_fleet.pair
    with pytest.raises(SwingError, match="follows the primary role"):
        driver_for(pair).point_site_at(pair, pair.backup)
    assert swing_fleet.state(pair.primary)["enabled_shared_ips"] == [pair.shared_ip]


def test_the_shared_ip_is_added_on_a_primary_that_lacks_it(swing_fleet):
    pair = swing_fleet.pair
    swing_fleet.sim.set_state(pair.primary.management_host, shared_ips=[])
    detail = driver_for(pair).point_site_at(pair, pair.primary)
    assert "added to its shared IPs" in detail
    assert swing_fleet.state(pair.primary)["enabled_shared_ips"] == [pair.shared_ip]


def test_both_members_holding_the_shared_ip_is_a_conflict(swing_fleet):
    pair = swing_fleet.pair
    swing_fleet.sim.set_state(pair.backup.management_host, role="primary")
    with pytest.raises(SwingError, match="IP conflict|Both"):
        driver_for(pair).currently_serving(pair)


def test_failover_with_the_old_primary_down_moves_the_shared_ip_and_never_to_both(swing_fleet):
    swing_fleet.take_primary_down()
    pair = swing_fleet.pair

    with SharedIpSampler(swing_fleet, pair.shared_ip) as sampler:
        operation = swing_fleet.run(swing_fleet.evaluate().operation)

    assert operation.status == OperationStatus.SUCCEEDED, operation.error
    # Before: the old primary is down and the backup not yet promoted, so nobody holds it; after: the backup.
    assert sampler.samples[0] == set()
    assert sampler.samples[-1] == {pair.backup.name}
    assert all(len(holders) <= 1 for holders in sampler.samples), [s for s in sampler.samples if len(s) > 1][:3]
    fence = operation.steps.get(name="fence_old_primary")
    assert "nothing answers on the shared IP" in fence.detail
    # Told as it was: not "fenced", only silent where it served.
    alert = Alert.objects.get(pair=pair, kind=AlertKind.FAILOVER)
    assert f"{pair.primary.name} did not answer and nothing answers where it served" in alert.body
    pair.refresh_from_db()
    assert pair.epoch == operation.epoch == 1


def test_failover_with_an_old_primary_that_answers_demotes_it_first(swing_fleet):
    swing_fleet.take_primary_down()
    pair = swing_fleet.pair
    # It comes back before the portal's probes notice: it still believes it is primary.
    swing_fleet.sim.clear_fault(pair.primary.management_host)

    with SharedIpSampler(swing_fleet, pair.shared_ip) as sampler:
        operation = swing_fleet.run(swing_fleet.evaluate().operation)

    assert operation.status == OperationStatus.SUCCEEDED, operation.error
    assert (swing_fleet.role(pair.primary), swing_fleet.role(pair.backup)) == ("backup", "primary")
    assert "was made backup" in operation.steps.get(name="fence_old_primary").detail
    assert sampler.samples[0] == {pair.primary.name}
    assert sampler.samples[-1] == {pair.backup.name}
    assert all(len(holders) <= 1 for holders in sampler.samples)


def test_failover_is_cancelled_while_something_still_accepts_on_the_shared_ip(swing_fleet):
    operation = swing_fleet.fail_over_while_the_old_primary_still_serves()
    assert operation.status == OperationStatus.CANCELLED
    assert "still accepts connections on the shared IP" in operation.error
    assert swing_fleet.role(swing_fleet.pair.backup) == "backup"  # nobody was promoted
    assert operation.steps.get(name="promote").status == "pending"


def test_a_refusal_on_the_shared_ip_is_not_someone_serving_and_the_failover_succeeds(swing_fleet):
    """Observation 7: anything refusing on the shared IP cancelled the portal's failover, and in the demo
    something always refuses (a loopback address). A host that refuses on the site's port serves nothing there."""
    swing_fleet.take_primary_down(silent=False)
    pair = swing_fleet.pair
    operation = swing_fleet.run(swing_fleet.evaluate().operation)

    assert operation.status == OperationStatus.SUCCEEDED, operation.error
    assert "nothing serves the site on it" in operation.steps.get(name="fence_old_primary").detail
    assert swing_fleet.role(pair.backup) == "primary"


def test_a_refusal_still_stops_the_failover_where_the_operator_says_firewalls_reject(swing_fleet, settings):
    settings.FAILOVER_REFUSAL_MEANS_NOT_SERVING = False
    swing_fleet.take_primary_down(silent=False)
    pair = swing_fleet.pair
    operation = swing_fleet.run(swing_fleet.evaluate().operation)

    assert operation.status == OperationStatus.CANCELLED
    assert f"refuses connections on the shared IP {pair.shared_ip}" in operation.error
    assert swing_fleet.role(pair.backup) == "backup"
    assert operation.steps.get(name="promote").status == "pending"


def test_an_old_primary_back_as_a_second_primary_is_made_backup(swing_fleet):
    swing_fleet.take_primary_down()
    pair = swing_fleet.pair
    failover = swing_fleet.run(swing_fleet.evaluate().operation)
    assert failover.status == OperationStatus.SUCCEEDED, failover.error

    # Powered back on: it never heard of the failover and takes its shared IP again (the IP conflict the
    # vendor warns about); the next probe sees two primaries and the policy fences it.
    swing_fleet.sim.clear_fault(pair.primary.management_host)
    assert swing_fleet.probe().state == "conflict"
    decisions = autofailovers_evaluate(now=timezone.now())
    fence = next(d for d in decisions if d.code == "fence")
    assert fence.operation.kind == OperationKind.BECOME_BACKUP and fence.operation.appliance == pair.primary
    with SharedIpSampler(swing_fleet, pair.shared_ip) as sampler:
        operation = swing_fleet.run(fence.operation)

    assert operation.status == OperationStatus.SUCCEEDED, operation.error
    assert (swing_fleet.role(pair.primary), swing_fleet.role(pair.backup)) == ("backup", "primary")
    assert sampler.samples[-1] == {pair.backup.name}
    # Once only: a second evaluation finds nothing to do.
    assert all(d.code != "fence" for d in autofailovers_evaluate(now=timezone.now()))
