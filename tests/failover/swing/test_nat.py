"""NAT swing against the simulator's NAT device (an HTTP/JSON translation table on its control server). The
simulated device speaks plain http, so these tests store its URL directly (``update``, bypassing the field's
https-only validator that forms and the API apply)."""

import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError

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


def test_no_promotion_while_the_old_primary_still_refuses_on_its_address_where_refusals_count(nat_fleet, settings):
    # Down for the portal's probes, but its address still sends "connection refused". Where a firewall may reject
    # the portal (FAILOVER_REFUSAL_MEANS_NOT_SERVING off), a host may be there serving, and with NAT swing nothing
    # fences it, so promoting the backup could leave two primaries.
    settings.FAILOVER_REFUSAL_MEANS_NOT_SERVING = False
    nat_fleet.take_primary_down(silent=False)
    pair = nat_fleet.pair

    operation = nat_fleet.run(nat_fleet.evaluate().operation)

    assert operation.status == OperationStatus.CANCELLED
    assert f"{pair.primary.name}'s site address {pair.primary.management_host}" in operation.error
    assert nat_fleet.role(pair.backup) == "backup"
    assert nat_fleet.sim.nat(f"{PUBLIC}:443")["target_address"] == pair.primary.management_host


@contextmanager
def _device(status: int, headers: dict, body: bytes = b""):
    """A stand-in NAT device on loopback that answers every request the same way; yields (url, requests)."""
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            seen.append(self.path)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_a_redirect_from_the_nat_device_is_not_followed(nat_fleet):
    pair = nat_fleet.pair
    with _device(200, {}, b"{}") as (elsewhere, elsewhere_seen), \
            _device(302, {"Location": elsewhere + "/internal"}) as (url, seen):
        pair.nat_device = url
        with pytest.raises(SwingError, match="302 \\(a redirect"):
            driver_for(pair).currently_serving(pair)
    assert len(seen) == 1 and elsewhere_seen == []


def test_the_nat_devices_error_body_is_not_echoed(nat_fleet):
    pair = nat_fleet.pair
    with _device(500, {"Content-Type": "text/plain"}, b"internal secret token=abc") as (url, _seen):
        pair.nat_device = url
        with pytest.raises(SwingError) as raised:
            driver_for(pair).currently_serving(pair)
    assert "500" in str(raised.value) and "secret" not in str(raised.value)


def test_the_environments_proxy_is_not_used_for_the_nat_device(nat_fleet, monkeypatch):
    # A proxy that does not exist: used, the call would fail; ignored, it reaches the device.
    monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{free_port()}")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    assert driver_for(nat_fleet.pair).currently_serving(nat_fleet.pair) == nat_fleet.pair.primary


@pytest.mark.parametrize("value", [
    "http://nat.example.com:8080", "ftp://nat.example.com", "https://", "nat.example.com:8443",
    "https://user:pw@nat.example.com", "https://nat.example.com:99999", "file:///etc/passwd",
])
def test_the_nat_device_must_be_an_https_url_with_a_host(value):
    with pytest.raises(ValidationError):
        Pair._meta.get_field("nat_device").run_validators(value)


def test_an_https_nat_device_url_is_accepted():
    Pair._meta.get_field("nat_device").run_validators("https://nat.example.com:8443/api")
