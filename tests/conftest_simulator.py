"""Pytest fixtures for the appliance fleet simulator; importable without Django.

``simulator`` (session): one real simulator process for the whole run.
``fresh_simulator`` (function): the same process, reset to the fleet file's state first.
"""

import pytest

from simulator.testing import SimulatorProcess

# Small, fast fleet: one organisation, four pairs, one single appliance.
# time_scale 0.01 turns simulated seconds into centiseconds; swap_gap 20 gives a 0.2 s
# backup/backup window that tests can observe; automatic syncs are off unless a test enables them.
SIMULATOR_FLEET = {"organisations": 1, "pairs_per_org": 4, "singles": 1, "time_scale": 0.01,
                   "settings": {"sync_interval": 0},
                   "simulator": {"swap_gap": 20, "link_bandwidth": 1_000_000_000}}


@pytest.fixture(scope="session")
def simulator():
    sim = SimulatorProcess(**SIMULATOR_FLEET)
    sim.start()
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture
def fresh_simulator(simulator):
    simulator.reset()
    yield simulator
    simulator.clear_faults()


__all__ = ["simulator", "fresh_simulator"]
