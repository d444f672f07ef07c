"""A real Celery worker process for tests whose flow needs one: it uses the test's database and a queue of its
own, so it never takes another test's tasks."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def wait_until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class Worker:
    def __init__(self, queue: str, log: Path, env: dict[str, str] | None = None) -> None:
        """``env``: extra environment (settings read from it, e.g. a probe location's PROBE_SOURCE_ADDRESS)."""
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.celery_worker_settings",
               "FAILOVER_TEST_DB_NAME": connection.settings_dict["NAME"], "FAILOVER_TEST_QUEUE": queue,
               **(env or {})}
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool", "solo", "--queues", queue,
             "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "INFO"],
            cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
        )
        wait_until(lambda: "ready." in log.read_text(errors="replace") or self.process.poll() is not None, 60,
                   "the worker to start")
        assert self.process.poll() is None, log.read_text()

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()


