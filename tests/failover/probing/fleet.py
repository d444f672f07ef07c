"""Fixture `fleet`: the session simulator loaded into the inventory, one Pair row per simulated pair."""

import pytest
from django.utils import timezone

from appliances.drivers import InMemoryTokenCache
from demo.fleet_loader import fleet_load
from failover.models import BackupSettings, Pair
from failover.probing import probe_appliances
from portal.permissions import SYSTEM


class Fleet:
    def __init__(self, sim, loaded):
        self.sim = sim
        self.appliances = loaded.appliances  # name -> Appliance
        self.organization = loaded.organizations[0]
        self.pairs: list[Pair] = []
        self.token_cache = InMemoryTokenCache()

    def address(self, appliance):
        return appliance.management_host

    def probe(self, *appliances, times=1):
        """Run the real probe path ``times`` over these appliances (all of them by default)."""
        ids = [a.pk for a in (appliances or self.appliances.values())]
        report = None
        for _ in range(times):
            report = probe_appliances(ids, token_cache=self.token_cache)
        for appliance in self.appliances.values():
            appliance.refresh_from_db()
        for pair in self.pairs:
            pair.refresh_from_db()
        return report


@pytest.fixture(name="fleet")
def fleet_fixture(request, db, fresh_simulator):
    """Parametrize it indirectly with a simulator profile ("vendor", "extended") to run against that profile."""
    sim = fresh_simulator
    if getattr(request, "param", None):
        sim.set_profile(request.param)
    loaded = fleet_load(actor=SYSTEM, fleet=sim.fleet_path, ca_pem=sim.ca_path.read_text(), port=sim.port)
    fleet = Fleet(sim, loaded)
    fleet.organization.alert_recipients = "noc@example.com\noncall@example.com"
    fleet.organization.save(update_fields=["alert_recipients"])
    for primary_data, backup_data in sim.pairs():
        primary, backup = fleet.appliances[primary_data["name"]], fleet.appliances[backup_data["name"]]
        pair = Pair.objects.create(
            organization=fleet.organization, site_hostname=primary_data["hostname"], primary=primary, backup=backup,
            shared_ip="127.250.0.1" if not fleet.pairs else None, network_method="dns_swing",
            dns_server="127.0.0.53", dns_zone="sim.test",
            backup_host=backup.management_host, reverse_host=primary.management_host,
        )
        for member in (primary, backup):
            # As an admin declared them (settings never read nor declared are unknown to every decision).
            BackupSettings.objects.create(organization=fleet.organization, appliance=member, declared_at=timezone.now())
        fleet.pairs.append(pair)
    return fleet
