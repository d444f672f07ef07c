"""Faults injected through the control API, observed by a client over real sockets."""

import socket
import ssl
import time
import xml.etree.ElementTree as ET

import pytest

from .helpers import client, pair, single


def health_request(api):
    return api.request("GET", "/api/command", params={"action": "check_health"},
                       headers={"Authorization": f"Bearer {api.token()}"})


def test_down_refuses_connections_until_cleared(fresh_simulator):
    target = single(fresh_simulator)
    api = client(fresh_simulator, target["name"])
    api.token()
    fresh_simulator.set_fault(target["address"], "down")
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((target["address"], fresh_simulator.port), timeout=2).close()
    fresh_simulator.clear_fault(target["address"], "down")
    fresh_simulator.wait_for(lambda: _connects(target["address"], fresh_simulator.port), timeout=5)
    assert health_request(api)[0] == 200


def _connects(address, port):
    try:
        socket.create_connection((address, port), timeout=1).close()
        return True
    except OSError:
        return False


def test_hang_accepts_but_never_answers(fresh_simulator):
    target = single(fresh_simulator)
    api = client(fresh_simulator, target["name"], timeout=0.5)
    api.token()
    fresh_simulator.set_fault(target["address"], "hang")
    with pytest.raises(TimeoutError):
        health_request(api)
    fresh_simulator.set_fault(target["address"], "hang", handshake=True)
    with pytest.raises((TimeoutError, socket.timeout)):
        health_request(api)


def test_slow_adds_latency(fresh_simulator):
    target = single(fresh_simulator)
    api = client(fresh_simulator, target["name"])
    api.token()
    fresh_simulator.set_fault(target["address"], "slow", ms=400)
    started = time.monotonic()
    assert health_request(api)[0] == 200
    assert time.monotonic() - started >= 0.4


def test_flapping_alternates_per_connection(fresh_simulator):
    target = single(fresh_simulator)
    api = client(fresh_simulator, target["name"])
    api.token()
    fresh_simulator.set_fault(target["address"], "flapping")
    outcomes = []
    for _ in range(4):
        try:
            outcomes.append(health_request(api)[0])
        except (ConnectionError, ssl.SSLError, OSError):
            outcomes.append("down")
    assert outcomes == ["down", 200, "down", 200]


def test_partition_only_cuts_the_peer_link(fresh_simulator):
    primary, backup = pair(fresh_simulator)
    fresh_simulator.set_fault(primary["address"], "partition")
    status = client(fresh_simulator, backup["name"]).command("x_get_sync_status")
    assert status.find("peer/reachable").text == "0"
    assert client(fresh_simulator, primary["name"]).command("check_health").find("success").text == "1"


@pytest.mark.parametrize("mode", ["truncated", "garbage"])
def test_malformed_xml(fresh_simulator, mode):
    target = single(fresh_simulator)
    api = client(fresh_simulator, target["name"])
    fresh_simulator.set_fault(target["address"], "malformed", mode=mode)
    status, _, body = health_request(api)
    assert status == 200
    with pytest.raises(ET.ParseError):
        ET.fromstring(body)


def test_oversized_body(fresh_simulator):
    target = single(fresh_simulator)
    api = client(fresh_simulator, target["name"], timeout=10)
    fresh_simulator.set_fault(target["address"], "oversized", mb=3)
    status, headers, body = health_request(api)
    assert status == 200 and len(body) > 3 * 1024 * 1024
    assert "content-length" not in headers  # streamed until the connection closes


def test_hostile_xml_payloads_and_wrong_content_type(fresh_simulator):
    target = single(fresh_simulator)
    api = client(fresh_simulator, target["name"])
    fresh_simulator.set_fault(target["address"], "xml_bomb")
    body = health_request(api)[2]
    assert b"<!ENTITY lol9" in body and b"&lol9;" in body
    fresh_simulator.clear_fault(target["address"])
    fresh_simulator.set_fault(target["address"], "external_entity")
    assert b'SYSTEM "file:///etc/passwd"' in health_request(api)[2]
    fresh_simulator.clear_fault(target["address"])
    fresh_simulator.set_fault(target["address"], "wrong_content_type")
    _, headers, body = health_request(api)
    assert headers["content-type"].startswith("text/html") and body.startswith(b"<!DOCTYPE html>")


def test_changed_cert_is_issued_by_another_ca(fresh_simulator):
    target = single(fresh_simulator)
    fresh_simulator.set_fault(target["address"], "changed_cert")
    with pytest.raises(ssl.SSLCertVerificationError):
        client(fresh_simulator, target["name"]).request("GET", "/check_health")
    other_ca = fresh_simulator.state_dir / "changed-ca.pem"
    assert client(fresh_simulator, target["name"], cafile=other_ca).request("GET", "/check_health")[0] == 200
    fresh_simulator.clear_fault(target["address"])
    assert client(fresh_simulator, target["name"]).request("GET", "/check_health")[0] == 200


def test_unknown_fault_is_rejected(fresh_simulator):
    from simulator.testing import SimulatorError

    with pytest.raises(SimulatorError):
        fresh_simulator.set_fault(single(fresh_simulator)["address"], "gremlins")
    with pytest.raises(SimulatorError):
        fresh_simulator.set_fault(single(fresh_simulator)["address"], "slow", millis=3)


def test_flapping_with_a_period_alternates_over_time(fresh_simulator):
    target = single(fresh_simulator)
    fresh_simulator.set_fault(target["address"], "flapping", period=0.4)
    api = client(fresh_simulator, target["name"], timeout=2)
    with pytest.raises((ConnectionError, ssl.SSLError, OSError)):
        api.request("GET", "/check_health")
    time.sleep(0.45)
    assert api.request("GET", "/check_health")[0] == 200


def test_a_cleared_down_fault_is_answered_once_the_appliances_listen_again(fresh_simulator):
    """Tests and operators probe right after "bring it back": the control API answers only when it is back."""
    addresses = [a["address"] for a in fresh_simulator.appliances()]
    for _round in range(10):
        for address in addresses:
            fresh_simulator.set_fault(address, "down")
        fresh_simulator.clear_faults()
        for address in addresses:
            socket.create_connection((address, fresh_simulator.port), timeout=2).close()
