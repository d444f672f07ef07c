"""The demo shows a successful automatic failover (issue 11, item 7): its seeded fleet, against the simulator, with
a real Celery worker running the operation. Before, the portal's automatic failover could not succeed in the
demo: no pair had it on with the appliance's own off and connectivity test IPs that answer."""

import uuid
from datetime import timedelta

import pytest
import redis
from django.utils import timezone

from appliances.models import Appliance
from demo.seed import AUTO_FAILOVER_SETTINGS, demo_fleet, demo_seed
from failover.alerts import AlertKind
from failover.models import Operation, OperationKind, OperationStatus, Pair, PairState
from failover.pair_state import FailoverActor
from failover.probing import probe_appliances
from failover.services.autofailover import autofailovers_evaluate, automatic_failover_owner
from portal.models import Alert, Notification, NotificationStatus
from portal.services.notifications import alerts_deliver_pending
from simulator.testing import SimulatorProcess, free_port
from tests.celery_worker import Worker, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo_simulator():
    """The demo's own fleet (its first pair set up for the portal's automatic failover), kept small."""
    sim = SimulatorProcess(demo_fleet(organisations=1, pairs_per_org=2, singles=0, vendor_pairs_per_org=1)).start()
    yield sim
    sim.stop()


@pytest.fixture
def operations_queue(settings):
    queue = f"demo-ops-{uuid.uuid4().hex[:8]}"
    settings.FAILOVER_OPERATIONS_QUEUE = queue
    yield queue
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(queue)


def probe_everything(times: int = 1) -> None:
    """What the demo's dispatcher and probe worker do every 10 s."""
    for _ in range(times):
        probe_appliances(list(Appliance.objects.values_list("pk", flat=True)))


def test_the_demo_pair_with_the_portals_automatic_failover_fails_over_when_its_primary_dies(
        demo_simulator, operations_queue, tmp_path, settings):
    sim = demo_simulator
    demo_seed(fleet_path=sim.fleet_path, ca_pem=sim.ca_path.read_text(), port=sim.port, webhook_port=free_port())
    pair = Pair.objects.select_related("primary", "backup").get(portal_auto_failover=True)
    assert pair.site_hostname == "pair01.org-001.sim.test" and pair.primary.management_host == "127.1.0.1"
    settings_row = pair.backup.backup_settings
    assert settings_row.known and settings_row.connectivity_test_ips == AUTO_FAILOVER_SETTINGS["connectivity_test_ips"]
    assert automatic_failover_owner(pair)[0] == FailoverActor.PORTAL  # what the pair page shows
    probe_everything()
    pair.refresh_from_db()
    assert pair.state == PairState.HEALTHY, pair.state_reason

    # README: take the pair's primary down through the simulator's control API.
    sim.set_fault(pair.primary.management_host, "down")
    probe_everything(times=3)  # the demo's anti-flap: three failed probes
    pair.refresh_from_db()
    assert pair.state == PairState.PRIMARY_UNREACHABLE, pair.state_reason
    # Beat's evaluation once the backup's primary timeout (30 s) has run out since the first failed probe.
    due = pair.primary_unreachable_since + timedelta(seconds=AUTO_FAILOVER_SETTINGS["primary_timeout"] + 1)
    worker = Worker(operations_queue, tmp_path / "worker.log", env={
        "FAILOVER_TEST_LOCK_TTL": str(settings.FAILOVER_OPERATION_LOCK_TTL),
        "FAILOVER_TEST_STALE_SECONDS": str(settings.FAILOVER_OPERATION_STALE_SECONDS)})
    try:
        decision = next(d for d in autofailovers_evaluate(now=due) if d.pair_id == pair.pk)
        assert decision.go, decision.reason
        operation = wait_until(
            lambda: Operation.objects.filter(pk=decision.operation.pk).exclude(
                status__in=OperationStatus.active()).first(),
            120, "the worker to finish the automatic failover")
    finally:
        worker.stop()

    assert (operation.kind, operation.status) == (OperationKind.AUTO_FAILOVER, OperationStatus.SUCCEEDED), operation.error
    backup = sim.state(pair.backup.management_host)
    assert backup["role"] == "primary" and str(pair.shared_ip) in backup["enabled_shared_ips"]
    verified = operation.steps.get(name="verify")
    assert verified.status == "done" and verified.detail
    probe_everything()
    pair.refresh_from_db()
    # The promoted backup serves; the old primary, still down, is now the missing standby.
    assert pair.state == PairState.BACKUP_UNREACHABLE, pair.state_reason

    alert = Alert.objects.get(pair=pair, kind=AlertKind.FAILOVER)
    assert f"automatic failover to {pair.backup.name} done" in alert.subject
    alerts_deliver_pending(now=timezone.now() + timedelta(minutes=1))  # past the demo route's group wait
    sent = Notification.objects.filter(alerts=alert, status=NotificationStatus.SENT)
    assert sent.filter(channel__name="NOC email").exists()
