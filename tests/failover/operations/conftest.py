"""Fixtures for the operations tests: the session simulator loaded into the inventory *with its pairs*, and
helpers that start an operation through the service and run it the way the Celery task does."""

import pytest

from demo.fleet_loader import fleet_load
from failover.models import Operation
from failover.operations import run_operation
from failover.services.operations import operation_start
from portal.models import Role
from portal.permissions import SYSTEM
from tests.factories import MembershipFactory, UserFactory


class OpsFleet:
    def __init__(self, sim, loaded):
        self.sim = sim
        self.organization = loaded.organizations[0]
        self.appliances = loaded.appliances
        self.pairs = list(loaded.pairs.values())
        self.operator = UserFactory(username="ops-operator")
        MembershipFactory(organization=self.organization, user=self.operator, role=Role.ADMIN)

    @property
    def pair(self):
        return self.pairs[0]

    def state(self, appliance):
        return self.sim.state(appliance.management_host)

    def role(self, appliance) -> str:
        return self.state(appliance)["role"]

    def set_state(self, appliance, **fields):
        return self.sim.set_state(appliance.management_host, **fields)

    def start(self, kind, *, pair=None, appliance=None, **params) -> Operation:
        return operation_start(actor=self.operator, pair=pair or self.pair, kind=kind, params=params,
                               reason="test", appliance=appliance)

    def run(self, operation) -> Operation:
        run_operation(operation.pk)
        operation.refresh_from_db()
        return operation

    def start_and_run(self, kind, **kwargs) -> Operation:
        return self.run(self.start(kind, **kwargs))


@pytest.fixture
def ops_fleet(db, fresh_simulator, settings):
    settings.FAILOVER_POLL_INTERVAL = 0.05
    settings.FAILOVER_SYNC_TIMEOUT = 60
    sim = fresh_simulator
    loaded = fleet_load(actor=SYSTEM, fleet=sim.fleet_path, ca_pem=sim.ca_path.read_text(), port=sim.port, pairs=True)
    return OpsFleet(sim, loaded)


def step_statuses(operation) -> dict[str, str]:
    return {step.name: step.status for step in operation.steps.order_by("index")}
