"""An operator opens a pair's page, clicks "Sync now", and watches the operation finish live while a real Celery
worker runs it against the simulated appliances."""

import uuid

import pytest
import redis

from demo.fleet_loader import fleet_load
from failover.models import Operation, OperationKind, OperationStatus
from portal.models import Role
from portal.permissions import SYSTEM
from tests.celery_worker import Worker

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker_queue(settings, tmp_path):
    queue = f"e2e-ops-{uuid.uuid4().hex[:8]}"
    settings.FAILOVER_OPERATIONS_QUEUE = queue
    yield queue
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(queue)


def test_sync_now_from_the_pair_page_runs_and_shows_progress(page, sign_in, fresh_simulator, make_member, worker_queue, tmp_path):
    sim = fresh_simulator
    loaded = fleet_load(actor=SYSTEM, fleet=sim.fleet_path, ca_pem=sim.ca_path.read_text(), port=sim.port, pairs=True)
    pair = next(iter(loaded.pairs.values()))
    operator = make_member(pair.organization, Role.OPERATOR, username="olga")
    syncs_before = len(sim.state(pair.backup.management_host)["sync_history"])
    worker = Worker(worker_queue, tmp_path / "worker.log")
    try:
        sign_in(operator)
        page.goto(pair.get_absolute_url())
        assert pair.site_hostname in page.locator("h1").inner_text()
        page.get_by_role("button", name="Sync now").click()
        card = page.locator("[id^=operation-]").first
        # The operation card polls with htmx until the worker has finished the sync.
        card.locator(".badge.text-bg-success", has_text="Succeeded").first.wait_for(timeout=60_000)
    finally:
        worker.stop()
    operation = Operation.objects.get(pair=pair, kind=OperationKind.SYNC)
    assert operation.status == OperationStatus.SUCCEEDED
    assert operation.requested_by == operator
    assert len(sim.state(pair.backup.management_host)["sync_history"]) == syncs_before + 1


def test_viewer_sees_the_pair_but_no_action_buttons(page, sign_in, fresh_simulator, make_member):
    sim = fresh_simulator
    loaded = fleet_load(actor=SYSTEM, fleet=sim.fleet_path, ca_pem=sim.ca_path.read_text(), port=sim.port, pairs=True)
    pair = next(iter(loaded.pairs.values()))
    sign_in(make_member(pair.organization, Role.VIEWER, username="vera"))
    page.goto(pair.get_absolute_url())
    assert pair.site_hostname in page.locator("h1").inner_text()
    assert page.get_by_role("button", name="Sync now").count() == 0
    assert page.get_by_role("button", name="Break relationship").count() == 0
