"""Celery application. Tasks live in each app's ``tasks.py``; each app's periodic work is declared in code in
its ``schedules.py`` (a plain ``SCHEDULE`` dict, no Django imports) and loaded into django-celery-beat's
DatabaseScheduler at beat start."""

import importlib
import os

from celery import Celery
from kombu.transport import TRANSPORT_ALIASES

# The embedded broker: kombu's filesystem transport with atomic writes (portal/celery_transport.py says why).
TRANSPORT_ALIASES["filesystem"] = "portal.celery_transport:Transport"
# Redis: kombu's, surviving a broker restart with messages in flight (portal/celery_redis.py says why).
TRANSPORT_ALIASES["redis"] = TRANSPORT_ALIASES["rediss"] = "portal.celery_redis:Transport"

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

# Named as strings (importlib), like portal/urls.py names the apps' URLconfs: the project gathers what the apps
# declare; no app imports another's schedule.
SCHEDULE_MODULES = ("portal.schedules", "appliances.schedules", "certificates.schedules", "failover.schedules")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def database_entry(entry: dict) -> dict:
    """A schedule entry as django-celery-beat's DatabaseScheduler stores it. Its PeriodicTask row keeps a
    relative expiry only in ``expire_seconds``: an ``expires`` option is silently dropped when the entry is loaded,
    so ticks that queued up behind busy workers would never expire and would run back to back. Translate it."""
    options = dict(entry.get("options") or {})
    expires = options.pop("expires", None)
    if expires is None:
        return entry
    if not isinstance(expires, int | float):
        raise TypeError(f"a schedule's expires must be seconds, not {expires!r}")
    return {**entry, "options": {**options, "expire_seconds": max(1, int(expires))}}


def collect_beat_schedule() -> dict:
    schedule: dict = {}
    for name in SCHEDULE_MODULES:
        schedule.update({key: database_entry(entry) for key, entry in importlib.import_module(name).SCHEDULE.items()})
    return schedule


app.conf.beat_schedule = collect_beat_schedule()
