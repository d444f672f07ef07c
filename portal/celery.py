"""Celery application. Tasks live in each app's ``tasks.py``; each app's periodic work is declared in code in
its ``schedules.py`` (a plain ``SCHEDULE`` dict, no Django imports) and loaded into django-celery-beat's
DatabaseScheduler at beat start."""

import importlib
import os

from celery import Celery
from kombu.transport import TRANSPORT_ALIASES

# The embedded broker: kombu's filesystem transport with atomic writes (portal/celery_transport.py says why).
TRANSPORT_ALIASES["filesystem"] = "portal.celery_transport:Transport"

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

# Named as strings (importlib), like portal/urls.py names the apps' URLconfs: the project gathers what the apps
# declare; no app imports another's schedule.
SCHEDULE_MODULES = ("portal.schedules", "appliances.schedules", "certificates.schedules", "failover.schedules")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def collect_beat_schedule() -> dict:
    schedule: dict = {}
    for name in SCHEDULE_MODULES:
        schedule.update(importlib.import_module(name).SCHEDULE)
    return schedule


app.conf.beat_schedule = collect_beat_schedule()
