"""The beat task fans out one refresh per pair and per unpaired appliance; the schedule names real tasks."""

from types import SimpleNamespace

import pytest

from certificates import tasks as certificate_tasks
from certificates.schedules import SCHEDULE
from failover import tasks as failover_tasks
from portal.models import Alert
from tests.factories import ApplianceFactory, PairFactory

pytestmark = pytest.mark.django_db

# The fan-out over pairs and the per-pair refresh are failover's tasks since the restack (failover knows pairs);
# their names did not change.
tasks = SimpleNamespace(**vars(certificate_tasks), refresh_served=failover_tasks.refresh_served,
                        refresh_served_pair=failover_tasks.refresh_served_pair)


def test_schedule_names_tasks_of_this_app():
    names = {getattr(value, "name", None) for value in vars(tasks).values()}
    for entry in SCHEDULE.values():
        assert entry["task"] in names


def test_refresh_served_fans_out_after_commit(org_a, django_capture_on_commit_callbacks):
    PairFactory.create_batch(3, organization=org_a)
    PairFactory(organization=org_a, broken_at="2026-01-01T00:00:00Z")  # a broken pair: its members count as single
    ApplianceFactory.create_batch(2, organization=org_a)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        counts = tasks.refresh_served()
    assert counts == {"pairs": 3, "appliances": 4}
    assert len(callbacks) == 7


def test_refresh_of_an_unreachable_appliance_records_the_error_without_alerting(org_a):
    appliance = ApplianceFactory(organization=org_a, management_host="127.0.0.1", management_port=9, probe_timeout=1)
    assert tasks.refresh_served_appliance(appliance.pk) == 2
    observations = list(appliance.served_certificates.all())
    assert all(o.error and not o.ok for o in observations)
    assert not Alert.objects.exists()


def test_tasks_ignore_deleted_objects():
    assert tasks.refresh_served_pair(987654) is None
    assert tasks.refresh_served_appliance(987654) == 0
    assert tasks.sync_inventory(987654) == 0
