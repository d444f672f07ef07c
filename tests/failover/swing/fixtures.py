"""Fixture ``swing_fleet``: the session simulator loaded into the inventory with its pairs (established, shared
IP), probed through the real probe path, plus helpers to take a primary down, evaluate the automatic failover
policy and run the operation the way the Celery task does. Imported by the swing and autofailover tests."""

from __future__ import annotations

import contextlib
import fcntl
import socket
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest

from demo.fleet_loader import fleet_load
from failover.models import BackupSettings, Operation, Pair
from failover.operations import run_operation
from failover.probing import probe_appliances
from failover.services.autofailover import autofailover_evaluate
from failover.swing.knock import service_targets
from portal.permissions import SYSTEM
from simulator.testing import Silence


class SwingFleet:
    def __init__(self, sim, loaded):
        self.sim = sim
        self.silence = Silence()
        self.organization = loaded.organizations[0]
        self.appliances = loaded.appliances
        self.pair: Pair = next(iter(loaded.pairs.values()))

    def state(self, appliance) -> dict:
        return self.sim.state(appliance.management_host)

    def role(self, appliance) -> str:
        return self.state(appliance)["role"]

    def probe(self) -> Pair:
        """One real probe sweep of the pair's members; returns the pair as the probes left it."""
        probe_appliances([self.pair.primary_id, self.pair.backup_id])
        self.pair = Pair.objects.select_related(
            "organization", "primary__backup_settings", "backup__backup_settings").get(pk=self.pair.pk)
        return self.pair

    def take_primary_down(self, *, silent: bool = True) -> Pair:
        """The primary stops answering the portal. ``silent``: nothing answers where it served the site either
        (shared IP, or its own address for DNS/NAT swing), as after a power cut; otherwise those addresses
        refuse connections, which the failover takes as a sign that a host may still be there."""
        old = self.pair.primary
        self.sim.set_fault(old.management_host, "down")
        if silent:
            now = Pair.objects.get(pk=self.pair.pk)  # a test may have changed the method since the last probe
            address = now.shared_ip if now.network_method == "shared_ip" else old.management_host
            for target in service_targets(address, old.management_port):
                self.silence.add(*target)
        pair = self.probe()
        assert pair.state == "primary_unreachable", pair.state_reason
        return pair

    def past_timeout(self, seconds: int = 1):
        timeout = self.pair.backup.backup_settings.primary_timeout
        return self.pair.primary_unreachable_since + timedelta(seconds=timeout + seconds)

    def evaluate(self, now=None):
        return autofailover_evaluate(pair=self.pair, now=now or self.past_timeout())

    def run(self, operation: Operation) -> Operation:
        run_operation(operation.pk)
        operation.refresh_from_db()
        return operation

    def fail_over_while_the_old_primary_still_serves(self) -> Operation:
        """The primary is cut off from the portal's management network but still serves the site's address (a
        listener on the shared IP): the automatic failover the evaluation starts, run to its end."""
        self.take_primary_down(silent=False)
        pair = self.pair
        with socket.socket() as still_serving:
            still_serving.bind((pair.shared_ip, pair.primary.management_port))
            still_serving.listen(8)
            return self.run(self.evaluate().operation)


class SharedIpSampler:
    """Samples both members' simulator state in the background: who holds the shared IP at each moment. An
    appliance that is down holds nothing (its interface is gone with it); every other primary with the address
    enabled answers for it on the network."""

    def __init__(self, fleet: SwingFleet, shared_ip: str, interval: float = 0.01) -> None:
        self.fleet, self.shared_ip, self.interval = fleet, shared_ip, interval
        self.samples: list[set[str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def holders(self) -> set[str]:
        held = set()
        for member in (self.fleet.pair.primary, self.fleet.pair.backup):
            state = self.fleet.state(member)
            if self.shared_ip in state["enabled_shared_ips"] and "down" not in state["faults"]:
                held.add(member.name)
        return held

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(self.holders())
            time.sleep(self.interval)

    def __enter__(self) -> SharedIpSampler:
        self.samples.append(self.holders())  # the moment before, whatever the thread's timing
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append(self.holders())


@contextlib.contextmanager
def loopback_silence_lock():
    """Silence binds ports on the simulated fleet's loopback addresses, which every xdist worker's simulator
    shares: one test at a time, across workers, holds them (an exclusive lock on a file)."""
    path = Path(tempfile.gettempdir()) / "failover-portal-loopback-silence.lock"
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(name="swing_fleet")
def swing_fleet_fixture(request, db, fresh_simulator, settings):
    """Parametrize it indirectly with a simulator profile ("vendor", "extended") to run against that profile."""
    with loopback_silence_lock():
        yield from _swing_fleet(fresh_simulator, settings, profile=getattr(request, "param", None))


def _swing_fleet(fresh_simulator, settings, profile=None):
    settings.FAILOVER_POLL_INTERVAL = 0.02
    settings.PROBE_FAILURES_TO_DOWN = 1
    settings.PROBE_SUCCESSES_TO_UP = 1
    settings.FAILOVER_KNOCK_TIMEOUT = 0.3
    sim = fresh_simulator
    if profile:
        sim.set_profile(profile)
    loaded = fleet_load(actor=SYSTEM, fleet=sim.fleet_path, ca_pem=sim.ca_path.read_text(), port=sim.port, pairs=True)
    fleet = SwingFleet(sim, loaded)
    fleet.organization.alert_recipients = "noc@example.com"
    fleet.organization.save(update_fields=["alert_recipients"])
    Pair.objects.filter(pk=fleet.pair.pk).update(portal_auto_failover=True)
    # The policy needs the standby's connectivity test IPs; on loopback 127.0.0.1 always answers (or refuses).
    BackupSettings.objects.filter(appliance_id=fleet.pair.backup_id).update(connectivity_test_ips=["127.0.0.1"])
    pair = fleet.probe()
    assert pair.state == "healthy", pair.state_reason
    yield fleet
    fleet.silence.close()
