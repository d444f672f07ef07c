"""The demo runner restarts a child that dies, says so, and keeps the others (the web server) running."""

import sys
import time

from demo.supervisor import Child, Supervisor

LONG = [sys.executable, "-c", "import time; time.sleep(60)"]
DIES = [sys.executable, "-c", "import sys; sys.exit(3)"]


def _run_until(supervisor, condition, limit=20.0):
    deadline = time.monotonic() + limit
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.1)
        supervisor.check()


def test_a_dead_worker_is_restarted_announced_and_the_web_server_stays_up():
    said = []
    web, worker = Child("web server", LONG), Child("Celery worker", DIES)
    supervisor = Supervisor([web, worker], say=said.append, max_restarts=2, window=60, backoff=0)
    supervisor.start()
    first_web = web.process
    try:
        _run_until(supervisor, lambda: worker.given_up)
        assert said[0] == "Celery worker exited unexpectedly (code 3); restarting it (restart 1 in the last 60 s)."
        assert said[1].startswith("Celery worker exited unexpectedly (code 3); restarting it (restart 2")
        assert said[2].startswith("Celery worker exited (code 3) 2 times within 60 s; not restarting it again.")
        assert supervisor.alive() == ["web server"]
        assert web.process is first_web, "the web server was never restarted or stopped"
    finally:
        supervisor.stop()
    assert supervisor.alive() == []


def test_a_child_that_dies_once_comes_back(tmp_path):
    said = []
    # Dies on its first run (leaving a marker), lives on the second.
    script = (f"import os,sys,time; p={str(tmp_path / 'ran')!r}; "
              "sys.exit(4) if not os.path.exists(p) and not open(p,'w').close() else time.sleep(60)")
    child = Child("Celery beat", [sys.executable, "-c", script])
    supervisor = Supervisor([child], say=said.append, backoff=0)
    supervisor.start()
    try:
        _run_until(supervisor, lambda: said and supervisor.alive())
        time.sleep(0.5)
        supervisor.check()
        assert said == ["Celery beat exited unexpectedly (code 4); restarting it (restart 1 in the last 60 s)."]
        assert supervisor.alive() == ["Celery beat"]
    finally:
        supervisor.stop()
