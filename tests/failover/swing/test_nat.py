"""NAT swing against the simulator's NAT device (an HTTP/JSON translation table on its control server)."""

import pytest

from failover.models import OperationStatus, Pair
from failover.swing import SwingError, driver_for
from failover.swing.nat import NatSwing
from simulator.testing import SimulatorError, free_port

PUBLIC = "127.200.0.1"


@pytest.fixture
def nat_fleet(swing_fleet):
    pair = swing_fleet.pair
    Pair.objects.filter(pk=pair.pk).update(network_method="nat_swing", nat_public_address=PUBLIC,
                                           nat_public_port=443, nat_device=swing_fleet.sim.nat_device_url)
    swing_fleet.pair = Pair.objects.select_related("organization", "backup__backup_settings").get(pk=pair.pk)
    swing_fleet.sim.set_nat(f"{PUBLIC}:443", pair.primary.management_host, pair.primary.management_port)
    return swing_fleet


def test_nat_swing_rewrites_the_translation(nat_fleet):
    pair = nat_fleet.pair
    driver = driver_for(pair)
    assert isinstance(driver, NatSwing)
    assert driver.currently_serving(pair) == pair.primary

    detail = driver.point_site_at(pair, pair.backup)

    translation = nat_fleet.sim.nat(f"{PUBLIC}:443")
    assert (translation["target_address"], translation["target_port"]) == (
        pair.backup.management_host, pair.backup.management_port)
    assert driver.currently_serving(pair) == pair.backup
    assert pair.backup.name in detail


def test_automatic_failover_points_the_nat_device_at_the_new_primary(nat_fleet):
    nat_fleet.take_primary_down()
    operation = nat_fleet.run(nat_fleet.evaluate().operation)

    assert operation.status == OperationStatus.SUCCEEDED, operation.error
    pair = nat_fleet.pair
    translation = nat_fleet.sim.nat(f"{PUBLIC}:443")
    assert translation["target_address"] == pair.backup.management_host
    assert [entry["target"] for entry in translation["history"]] == [
        f"{pair.primary.management_host}:{pair.primary.management_port}",
        f"{pair.backup.management_host}:{pair.backup.management_port}",
    ]
    assert nat_fleet.role(pair.backup) == "primary"
    assert "does not answer" in operation.steps.get(name="fence_old_primary").detail


def test_an_unreachable_nat_device_is_a_clear_error(nat_fleet):
    pair = nat_fleet.pair
    pair.nat_device = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(SwingError, match="Could not reach the NAT device"):
        driver_for(pair).point_site_at(pair, pair.backup)


def test_an_unknown_translation_is_reported(nat_fleet):
    pair = nat_fleet.pair
    pair.nat_public_port = 8443
    with pytest.raises(SwingError, match="404"):
        driver_for(pair).currently_serving(pair)


def test_the_simulated_nat_device_rejects_a_bad_translation(swing_fleet):
    with pytest.raises(SimulatorError, match="400"):
        swing_fleet.sim.set_nat(f"{PUBLIC}:443", "not-an-address", 443)
    with pytest.raises(SimulatorError, match="404"):
        swing_fleet.sim.nat(f"{PUBLIC}:443")  # nothing was stored
