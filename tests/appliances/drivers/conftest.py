"""Fixtures for the driver unit tests (the HTTPS test server lives in driver_testkit.py)."""

from __future__ import annotations

import socket
import sys
import threading
from pathlib import Path

import pytest
from driver_testkit import FakeAppliance, Pki, make_pki, server_context

# With ``-p no:django`` nothing puts the project root on sys.path (pytest only adds this directory), and
# the test modules next to this file import ``appliances.drivers``: make the project importable first.
_PROJECT_ROOT = str(Path(__file__).resolve().parents[3])
if _PROJECT_ROOT not in sys.path:
    sys.path.insert(0, _PROJECT_ROOT)


@pytest.fixture(scope="session")
def pki() -> Pki:
    return make_pki()


@pytest.fixture
def https_server(pki, tmp_path):
    server = FakeAppliance(server_context(pki, tmp_path))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def token_cache():
    from appliances.drivers import InMemoryTokenCache

    return InMemoryTokenCache()


@pytest.fixture
def closed_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def silent_port():
    """A loopback port that accepts TCP connections (backlog) but never speaks TLS."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield sock.getsockname()[1]


@pytest.fixture(scope="session")
def driver_simulator(request):
    """The real simulator process: the shared session fixture from tests/conftest_simulator.py when it is
    loaded (full-suite runs), else our own instance with the same fleet (driver-only runs, which use
    ``--confcutdir`` to keep Django's tests/conftest.py out)."""
    try:
        return request.getfixturevalue("simulator")
    except pytest.FixtureLookupError:
        pass
    from simulator.testing import SimulatorProcess
    from tests.conftest_simulator import SIMULATOR_FLEET

    sim = SimulatorProcess(**SIMULATOR_FLEET)
    sim.start()
    request.addfinalizer(sim.stop)
    return sim


@pytest.fixture
def sim(driver_simulator):
    """The simulator reset to its fleet file, faults cleared afterwards."""
    driver_simulator.reset()
    yield driver_simulator
    driver_simulator.clear_faults()
