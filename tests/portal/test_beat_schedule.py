"""The schedules declared in code reach django-celery-beat's database as beat will send them."""

import pytest
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler

from portal.celery import app, collect_beat_schedule, database_entry

# Beat closes the database connection as it starts (Celery's Django fixup), which a test transaction cannot survive.
pytestmark = pytest.mark.django_db(transaction=True)


def test_expiry_of_each_schedule_survives_loading_into_the_database_scheduler():
    scheduler = DatabaseScheduler(app=app, lazy=False)

    declared = collect_beat_schedule()
    rows = {row.name: row for row in PeriodicTask.objects.filter(name__in=declared)}
    assert set(rows) == set(declared)
    assert rows["failover-probe-dispatch"].expire_seconds == 5
    assert rows["failover-evaluate-auto-failover"].expire_seconds == 10
    # What beat sends with each tick: a late tick is dropped rather than run back to back with the next ones.
    assert scheduler.schedule["failover-probe-dispatch"].options["expires"] == 5
    assert rows["appliances.scheduled_backups"].expire_seconds is None  # declared without one


def test_an_expiry_that_is_not_seconds_is_refused_at_startup():
    with pytest.raises(TypeError):
        database_entry({"task": "x", "schedule": 5.0, "options": {"expires": "5"}})
