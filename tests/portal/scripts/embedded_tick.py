"""Run in a subprocess on the embedded defaults (SQLite, filesystem broker): seed the demo from a real simulator,
probe the fleet, then run every periodic task once in-process, the way the demo's worker and beat would.
Prints a JSON summary for the test to check."""

import json
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
django.setup()

from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

from appliances.models import Appliance  # noqa: E402
from demo.seed import demo_seed  # noqa: E402
from failover.models import Pair  # noqa: E402
from failover.services.probes import probe_batch_run, probe_batches_claim  # noqa: E402
from portal.celery import app  # noqa: E402
from simulator.fleet import generate_fleet  # noqa: E402
from simulator.testing import SimulatorProcess  # noqa: E402

call_command("migrate", verbosity=0)
simulator = SimulatorProcess(generate_fleet(1, 2, 1, simulator={"time_scale": 0.01})).start()
try:
    demo_seed(fleet_path=simulator.fleet_path, ca_pem=simulator.ca_path.read_text(), port=simulator.port)
    for batch in probe_batches_claim(now=timezone.now()):
        probe_batch_run(appliance_ids=batch)
    app.loader.import_default_modules()  # what a worker does at start: import every app's tasks
    ran = []
    for entry in sorted(app.conf.beat_schedule.values(), key=lambda e: e["task"]):
        app.tasks[entry["task"]].apply(throw=True)
        ran.append(entry["task"])
    print(json.dumps({
        "database": django.db.connection.vendor,
        "tasks": ran,
        "checked": Appliance.objects.filter(probe_status__status_checked_at__isnull=False).count(),
        "appliances": Appliance.objects.count(),
        "pair_states": sorted(Pair.objects.values_list("state", flat=True)),
    }))
finally:
    simulator.stop()
