"""Fixtures for the driver unit tests (the HTTPS test server lives in driver_testkit.py)."""

from __future__ import annotations

import socket
import threading

import pytest
from driver_testkit import FakeAppliance, Pki, make_pki, server_context

from appliances.drivers import InMemoryTokenCache


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
def token_cache() -> InMemoryTokenCache:
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
