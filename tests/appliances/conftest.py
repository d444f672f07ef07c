"""The simulator's fleet loaded into the portal inventory, for backup and RMA tests against real appliances."""

from pathlib import Path

import pytest

from demo.fleet_loader import fleet_load
from portal.models import Role
from portal.permissions import SYSTEM


@pytest.fixture
def sim_inventory(fresh_simulator, db, make_member):
    """(simulator, organisation, {name: Appliance}, admin user) with the simulator reset."""
    sim = fresh_simulator
    result = fleet_load(actor=SYSTEM, fleet=sim.fleet, ca_pem=Path(sim.ca_path).read_text(), port=sim.port)
    organization = result.organizations[0]
    admin = make_member(organization, Role.ADMIN, username="sim-admin")
    return sim, organization, result.appliances, admin
