"""Run the whole portal on embedded defaults: a simulated fleet, the web server, a Celery worker and beat.

No services are needed: SQLite (WAL) and a filesystem Celery transport under var/. Ctrl-C stops everything.
"""

import os
import signal
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from demo.seed import DEMO_PASSWORD, demo_fleet, demo_seed
from demo.supervisor import Child, Supervisor
from simulator.testing import SimulatorProcess


class Command(BaseCommand):
    help = "Start the demo: simulated fleet, web server, Celery worker and beat, all on embedded defaults."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--organisations", type=int, default=2)
        parser.add_argument("--pairs-per-org", type=int, default=8)
        parser.add_argument("--singles", type=int, default=4)
        parser.add_argument("--vendor-pairs-per-org", type=int, default=3,
                            help="Pairs per organisation that answer the vendor API only (no x_ extension).")
        parser.add_argument("--time-scale", type=float, default=0.1, help="Simulated time speed-up (0.1: ten times faster).")
        parser.add_argument("--seed-only", action="store_true", help="Create the demo data and exit.")
        parser.add_argument("--webhook-port", type=int, default=8025, help="The local webhook receiver's port.")

    def handle(self, *args, port, organisations, pairs_per_org, singles, time_scale, seed_only, webhook_port,
               vendor_pairs_per_org,
               **options):
        demo_dir = settings.VAR_DIR / "demo"
        demo_dir.mkdir(parents=True, exist_ok=True)
        call_command("migrate", interactive=False, verbosity=0)
        fleet = demo_fleet(organisations, pairs_per_org, singles, vendor_pairs_per_org=vendor_pairs_per_org,
                           time_scale=time_scale)
        simulator = SimulatorProcess(fleet, state_dir=demo_dir / "simulator").start()
        supervisor = None
        try:
            logins = demo_seed(fleet_path=simulator.fleet_path, ca_pem=simulator.ca_path.read_text(), port=simulator.port,
                               webhook_port=webhook_port)
            if seed_only:
                return
            supervisor = self._supervisor(port, webhook_port)
            supervisor.start()
            self._banner(port, logins, simulator)
            self._wait(supervisor)
        finally:
            if supervisor is not None:
                supervisor.stop()
            simulator.stop()
            self.stdout.write("Demo stopped.")

    def _supervisor(self, port: int, webhook_port: int) -> Supervisor:
        # Messages link to the pages of this demo.
        env = {**os.environ, "DEBUG": os.environ.get("DEBUG", "True"),
               "PORTAL_BASE_URL": os.environ.get("PORTAL_BASE_URL", f"http://127.0.0.1:{port}")}
        python = sys.executable
        children = [
            Child("web server", [python, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]),
            Child("Celery worker", [python, "-m", "celery", "-A", "portal", "worker", "-Q", "celery,probes",
                                    "--concurrency", "2", "--loglevel", "WARNING", "--pool", "threads"]),
            # The probe dispatcher never waits behind an operation nor an evaluation pass, and the failover
            # policy never behind an operation: a worker each (docs/install.md).
            Child("Celery ticks worker", [python, "-m", "celery", "-A", "portal", "worker", "-Q", "ticks", "--pool",
                                          "solo", "--loglevel", "WARNING", "--hostname", "ticks@%h"]),
            Child("Celery evaluations worker", [python, "-m", "celery", "-A", "portal", "worker", "-Q",
                                                settings.FAILOVER_EVALUATION_QUEUE, "--pool", "solo", "--loglevel",
                                                "WARNING", "--hostname", "evaluations@%h"]),
            Child("Celery beat", [python, "-m", "celery", "-A", "portal", "beat", "--loglevel", "WARNING",
                                  "--schedule", str(settings.VAR_DIR / "celerybeat-schedule")]),
            Child("webhook receiver", [python, "manage.py", "webhook_receiver", "--port", str(webhook_port)]),
        ]
        return Supervisor(children, say=lambda text: self.stderr.write(text), env=env, cwd=settings.BASE_DIR)

    def _banner(self, port: int, logins, simulator) -> None:
        self.stdout.write(self.style.SUCCESS(f"\nFailover Portal demo: http://127.0.0.1:{port}/"))
        self.stdout.write(f"Password for every demo login: {DEMO_PASSWORD}")
        for login in logins:
            self.stdout.write(f"  {login.username:<22} {login.description}")
        self.stdout.write(f"Simulated fleet: {len(simulator.appliances())} appliances, control API {simulator.control_url}")
        self.stdout.write("Critical alerts post to the local webhook receiver (printed here, and in "
                          "var/demo/webhook.jsonl) and are emailed (printed by the worker).")
        self.stdout.write(f"API: http://127.0.0.1:{port}/api/docs/   Ctrl-C stops everything.\n")

    def _wait(self, supervisor: Supervisor) -> None:
        # Ctrl-C reaches the whole process group, so the children may stop before this loop sees the signal:
        # remember it, and restart a child only when nobody asked for a stop.
        stopping = []
        signal.signal(signal.SIGINT, lambda *_: stopping.append(True))
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
        while not stopping:
            time.sleep(0.5)
            if not stopping:
                supervisor.check()
        self.stdout.write("\nStopping…")
