"""Planned maintenance in the browser: an operator starts the runbook from the pair's runbook page, watches the
swap happen live, logs a /login change, says "Maintenance done", and sees the runbook verify the end state, while a
real Celery worker runs it against the simulated appliances."""

import uuid

import pytest
import redis

from demo.fleet_loader import fleet_load
from failover.models import (
    ChangeLogEntry,
    MaintenanceWindow,
    Operation,
    OperationKind,
    OperationStatus,
    PairState,
)
from portal.models import Role
from portal.permissions import SYSTEM
from tests.celery_worker import Worker

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker_queue(settings):
    queue = f"e2e-runbooks-{uuid.uuid4().hex[:8]}"
    settings.FAILOVER_OPERATIONS_QUEUE = queue
    yield queue
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(queue)


def test_planned_maintenance_in_the_browser(page, sign_in, fresh_simulator, make_member, worker_queue, tmp_path):
    sim = fresh_simulator
    loaded = fleet_load(actor=SYSTEM, fleet=sim.fleet_path, ca_pem=sim.ca_path.read_text(), port=sim.port, pairs=True)
    pair = next(iter(loaded.pairs.values()))
    type(pair).objects.filter(pk=pair.pk).update(state=PairState.HEALTHY)
    operator = make_member(pair.organization, Role.OPERATOR, username="olga")
    worker = Worker(worker_queue, tmp_path / "worker.log")
    try:
        sign_in(operator)
        page.goto(pair.get_absolute_url())
        page.click("#pair-runbooks-link")
        page.fill("#planned-window", "90")
        page.click("#start-planned")
        card = page.locator("[id^=operation-]").first
        # The card updates live until the runbook waits for the person at the maintenance checkpoint.
        done_button = card.get_by_role("button", name="Maintenance done")
        done_button.wait_for(timeout=90_000)
        assert "change log" in card.inner_text()
        assert sim.state(pair.backup.management_host)["role"] == "primary"
        page.fill("#change-log input[name=text]", "Group policy Night shift added")
        page.get_by_role("button", name="Log change").click()
        page.locator("#change-log li", has_text="Night shift").wait_for()
        page.goto("/")
        assert pair.primary.name in page.locator("#maintenance-windows").inner_text()
        page.go_back()
        page.locator("[id^=operation-]").first.get_by_role("button", name="Maintenance done").click()
        page.locator("[id^=operation-] .badge.text-bg-success", has_text="Succeeded").first.wait_for(timeout=90_000)
        # The pair page draws the two role changes' RTO with the vendored chart library (served locally).
        page.goto(pair.get_absolute_url())
        page.locator("#chart-rto canvas").wait_for()
    finally:
        worker.stop()
    operation = Operation.objects.get(pair=pair, kind=OperationKind.MAINTENANCE)
    assert operation.status == OperationStatus.SUCCEEDED, operation.error
    assert operation.requested_by == operator
    assert sim.state(pair.primary.management_host)["role"] == "primary"
    assert ChangeLogEntry.objects.get(operation=operation).author == operator
    window = MaintenanceWindow.objects.get(operation=operation)
    assert window.closed_at is not None
