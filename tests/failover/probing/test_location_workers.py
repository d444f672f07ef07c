"""Three probe locations as three real Celery worker processes, each consuming its own queue
(``<PROBE_QUEUE>.<location>``) and probing from its own loopback source address. The dispatcher (this process)
sends every due appliance to each location; the simulator cuts source addresses like broken routes. What the
workers record must give: one location's "down" is not an outage, two of three are; a location cut off from
everything is isolated (by its own worker) and its word set aside."""

import uuid
from datetime import timedelta

import pytest
import redis
from django.utils import timezone

from appliances.models import Appliance
from demo.fleet_loader import fleet_load
from failover.alerts import AlertKind
from failover.models import BackupSettings, LocationStatus, Pair, ProbeLocation
from failover.services.autofailover import autofailover_decide
from failover.services.locations import probe_location_create, probe_settings_set
from failover.tasks import probe_dispatch
from portal.models import Alert
from portal.permissions import SYSTEM
from tests.celery_worker import Worker, wait_until
from tests.factories import appliance_status_set

SOURCES = {"east": "127.0.0.2", "west": "127.0.0.3", "north": "127.0.0.4"}


@pytest.mark.django_db(transaction=True)
def test_location_workers_call_a_primary_down_only_on_a_quorum_and_isolate_a_cut_off_location(
        fresh_simulator, settings, tmp_path):
    sim = fresh_simulator
    prefix = f"probes-test-{uuid.uuid4().hex[:8]}"
    settings.PROBE_QUEUE = prefix
    tunables = {"PROBE_QUEUE": prefix, "PROBE_FAILURES_TO_DOWN": "1", "PROBE_SUCCESSES_TO_UP": "1",
                "PROBE_ISOLATION_MIN_APPLIANCES": "3", "FAILOVER_KNOCK_TIMEOUT": "0.5"}
    loaded = fleet_load(actor=SYSTEM, fleet=sim.fleet_path, ca_pem=sim.ca_path.read_text(), port=sim.port, pairs=True)
    organization = loaded.organizations[0]
    pair = next(iter(loaded.pairs.values()))
    Pair.objects.filter(pk=pair.pk).update(portal_auto_failover=True)
    BackupSettings.objects.filter(appliance_id=pair.backup_id).update(connectivity_test_ips=["127.0.0.1"])
    for name in SOURCES:
        probe_location_create(actor=SYSTEM, name=name)
    probe_settings_set(actor=SYSTEM, organization=organization, locations=list(SOURCES))
    expected = Appliance.objects.count() * len(SOURCES)

    def sweep() -> Pair:
        started = timezone.now()
        appliance_status_set(Appliance.objects.all(), next_probe_at=None)  # all due now
        assert probe_dispatch() == Appliance.objects.count()
        wait_until(lambda: LocationStatus.objects.filter(status_checked_at__gte=started).count() == expected, 60,
                   "every location to probe every appliance")
        return Pair.objects.select_related("primary__backup_settings", "backup__backup_settings").get(pk=pair.pk)

    log = tmp_path / "workers.log"
    workers = []
    try:
        for name, source in SOURCES.items():
            workers.append(Worker(f"{prefix}.{name}", log, env={**tunables, "PROBE_SOURCE_ADDRESS": source}))
        assert sweep().state == "healthy"
        # Each worker probed from its own address: the simulator saw three sources (cut one, only it fails).
        sim.set_fault(pair.primary.management_host, "cut", sources=[SOURCES["east"]])
        current = sweep()
        assert LocationStatus.objects.get(appliance=pair.primary, location="east").status_reachable is False
        assert current.primary.status_reachable is True and current.state == "healthy"

        sim.set_fault(pair.primary.management_host, "cut", sources=[SOURCES["east"], SOURCES["west"]])
        sweep()
        current = sweep()  # the standby's connectivity test IPs are knocked from the locations once it is down
        assert current.state == "primary_unreachable", current.state_reason
        assert "seen down from 2 of 3 locations (quorum 2)" in current.primary.status_error
        current.primary_unreachable_since = timezone.now() - timedelta(
            seconds=current.backup.backup_settings.primary_timeout + 1)
        decision = autofailover_decide(pair=current, now=timezone.now())
        assert decision.go, decision.reason
        assert "connectivity test IPs answer from east, west" in decision.reason

        # North loses its network: its worker finds everything down at once and isolates itself.
        sim.clear_fault(pair.primary.management_host)
        sim.cut_source(SOURCES["north"])
        current = sweep()
        north = ProbeLocation.objects.get(name="north")
        assert north.isolated, north.isolation_reason
        assert Alert.objects.filter(kind=AlertKind.LOCATION_ISOLATED, organization=organization).exists()
        assert current.state == "healthy"  # east and west see everything up; north's "down" is set aside
    finally:
        sim.restore_source(SOURCES["north"])
        for worker in workers:
            worker.stop()
        redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(*(f"{prefix}.{name}" for name in SOURCES))
