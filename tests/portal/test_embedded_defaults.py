"""The demo runs on embedded defaults (SQLite in WAL mode, a filesystem Celery transport). The suite otherwise
runs on PostgreSQL, so this runs every periodic task once on SQLite against a real simulator: a query only
PostgreSQL understands fails here instead of in someone's demo."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_periodic_task_runs_on_the_embedded_defaults(tmp_path):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "DEBUG": "True",
        "PORTAL_VAR_DIR": str(tmp_path / "var"),
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "PYTHONPATH": str(ROOT),
    }
    result = subprocess.run(
        [sys.executable, str(ROOT / "tests/portal/scripts/embedded_tick.py")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["database"] == "sqlite"
    assert summary["checked"] == summary["appliances"] == 5
    assert "failover.watch_pairs" in summary["tasks"] and "failover.schedule_syncs" in summary["tasks"]
    assert "never_checked" not in summary["pair_states"], summary
    assert (tmp_path / "var" / "portal.sqlite3").exists()
