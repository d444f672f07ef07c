"""What the failover benchmarks share: a scratch database, the portal's Celery processes as production runs
them (beat, and one worker per queue), and waiting for a condition. Import after setting the environment."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent


def add_scratch_arguments(parser, *, name: str, redis_db: int) -> None:
    """``--database`` (dropped and recreated: a scratch one) and ``--redis`` (broker and cache) of a benchmark."""
    parser.add_argument("--database", default=f"postgres://postgres@127.0.0.1:5432/portal_bench_{name}")
    parser.add_argument("--redis", default=f"redis://127.0.0.1:6379/{redis_db}", help="broker and cache")


def scratch_django(*, database: str, redis: str, name: str, reuse: bool = False,
                   settings: dict[str, str] | None = None) -> dict[str, str]:
    """Point this process at a scratch database (recreated unless ``reuse``) and Redis db (broker and cache),
    set Django up, and return the environment to give the processes it starts. ``settings``: more of the
    environment the portal's settings read (added, or overriding the above)."""
    env = {
        "DATABASE_URL": database, "REDIS_URL": redis, "CELERY_BROKER_URL": redis,
        "DJANGO_SETTINGS_MODULE": "portal.settings_test", "PORTAL_VAR_DIR": f"/tmp/portal-bench-{name}-var",
        **(settings or {}),
    }
    os.environ.update(env)
    if not reuse:
        recreate_database(database)
    import django  # here, after the environment: settings are read when Django is set up

    django.setup()
    return env


def recreate_database(url: str) -> None:
    """Drop and create the database named at the end of ``url`` (a scratch one: never point it at real data)."""
    drop_database(url)
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{url.rsplit("/", 1)[1]}"')


def drop_database(url: str) -> None:
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def start_portal_processes(log_dir: Path, env: dict[str, str], *, operations_pool: str = "threads",
                           operations_concurrency: int = 4) -> list[subprocess.Popen]:
    """Beat (DatabaseScheduler), a solo worker on ``ticks`` (the probe dispatch), one on the
    evaluations queue (the failover policy), one on ``probes`` and one on ``celery`` (operations), as
    docs/install.md lays them out; logs in ``log_dir``."""
    from django.conf import settings  # here: this module is imported before Django is set up

    celery = [sys.executable, "-m", "celery", "-A", "portal"]
    evaluations = settings.FAILOVER_EVALUATION_QUEUE
    commands = {
        "beat": [*celery, "beat", "--loglevel", "WARNING", "-s", str(log_dir / "beat-schedule")],
        "ticks": [*celery, "worker", "-Q", "ticks", "--pool", "solo", "-n", "ticks@%h", "--loglevel", "WARNING"],
        "evaluations": [*celery, "worker", "-Q", evaluations, "--pool", "solo", "-n", "evaluations@%h",
                        "--loglevel", "WARNING"],
        "probes": [*celery, "worker", "-Q", "probes", "--pool", "solo", "-n", "probes@%h", "--loglevel", "WARNING"],
        "operations": [*celery, "worker", "-Q", "celery", "--pool", operations_pool, "-c",
                       str(operations_concurrency), "-n", "ops@%h", "--loglevel", "WARNING"],
    }
    return [subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env},  # noqa: S603 (our own argv)
                             stdout=(log_dir / f"{name}.log").open("wb"), stderr=subprocess.STDOUT)
            for name, command in commands.items()]


def stop_processes(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()


def tear_down(*, processes: list[subprocess.Popen], simulator, database: str) -> None:
    """Stop what a benchmark started and drop its scratch database."""
    from django.db import connection  # here: this module is imported before Django is set up

    stop_processes(processes)
    simulator.stop()
    connection.close()
    drop_database(database)


def wait(predicate, timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise SystemExit(f"timed out after {timeout:.0f} s waiting for {what}")
