"""Soak the demo: run ``manage.py rundemo`` (embedded defaults: SQLite, the filesystem broker, a supervised web
server, Celery worker and beat) and inject a random simulator fault every interval; print what was injected and
what the portal reported (pair state and how soon, alerts raised), and whether every demo process survived.

    python bench/soak_demo.py --minutes 3            # a short run
    python bench/soak_demo.py --minutes 60           # the issue's soak

Bounded: it stops after ``--minutes`` (and always stops the demo). Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# name -> (what to do on the simulator, the pair state the portal should report)
FAULTS = {
    "primary down": ("fault", "primary", "down", "primary_unreachable"),
    "backup down": ("fault", "backup", "down", "backup_unreachable"),
    "primary unhealthy": ("fault", "primary", "unhealthy", "degraded"),
    "backup partitioned": ("fault", "backup", "partition", "peer_link_lost"),
    "two primaries": ("role", "backup", "primary", "conflict"),
}


def control(url: str, method: str, path: str, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url + path, data=data, method=method,  # noqa: S310 - loopback only
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return json.loads(response.read() or b"null")


class Runner:
    """The demo runner as a child process; its output is scanned for the control URL and for restarts."""

    def __init__(self, env: dict, port: int):
        self.lines: list[str] = []
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and manage.py
            [sys.executable, "manage.py", "rundemo", "--port", str(port), "--pairs-per-org", "4"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line.rstrip())

    def control_url(self, timeout: float = 180) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines:
                found = re.search(r"control API (http://\S+)", line)
                if found:
                    return found.group(1)
            if self.process.poll() is not None:
                raise SystemExit("the demo stopped before it was up:\n" + "\n".join(self.lines[-30:]))
            time.sleep(0.5)
        raise SystemExit("the demo did not come up in time")

    def restarts(self) -> list[str]:
        return [line for line in self.lines if "exited unexpectedly" in line or "not restarting" in line]

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=3)
    parser.add_argument("--interval", type=float, default=60, help="seconds between faults")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    var_dir = tempfile.mkdtemp(prefix="soak-demo-")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL")}
    env.update(PORTAL_VAR_DIR=var_dir, DJANGO_SETTINGS_MODULE="portal.settings_dev", DEBUG="True")
    os.environ.update(env)
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL"):
        os.environ.pop(name, None)

    runner = Runner(env, args.port)
    rows = []
    started = time.monotonic()
    try:
        url = runner.control_url()
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from failover.models import Pair
        from portal.models import Alert

        pairs = list(Pair.objects.select_related("primary", "backup").filter(established_at__isnull=False))
        print(f"demo up in {time.monotonic() - started:.0f} s: {len(pairs)} pairs, var dir {var_dir}", flush=True)
        end = started + args.minutes * 60
        while time.monotonic() + args.interval / 2 < end:
            name = rng.choice(sorted(FAULTS))
            how, side, what, expected = FAULTS[name]
            pair = rng.choice(pairs)
            member = pair.primary if side == "primary" else pair.backup
            injected_at = time.monotonic()
            alerts_before = set(Alert.objects.filter(pair=pair).values_list("pk", flat=True))
            if how == "fault":
                control(url, "POST", f"/appliances/{member.management_host}/faults", {"fault": what, "params": {}})
            else:
                control(url, "PATCH", f"/appliances/{member.management_host}", {"role": what})
            seen, seen_after = None, None
            window_end = min(injected_at + args.interval, end)
            while time.monotonic() < window_end:
                state = Pair.objects.filter(pk=pair.pk).values_list("state", flat=True).get()
                if seen is None and state == expected:
                    seen, seen_after = state, time.monotonic() - injected_at
                time.sleep(1)
            final = Pair.objects.filter(pk=pair.pk).values_list("state", flat=True).get()
            kinds = sorted(Alert.objects.filter(pair=pair).exclude(pk__in=alerts_before)
                           .values_list("kind", flat=True))
            rows.append((name, pair.site_hostname, expected, f"{seen_after:.0f} s" if seen else "not seen", final,
                         ",".join(kinds) or "-"))
            print(" | ".join(map(str, rows[-1])), flush=True)
            # Undo: clear the faults and put the roles back, so each minute starts from a healthy fleet.
            control(url, "DELETE", "/faults")
            if how == "role":
                control(url, "PATCH", f"/appliances/{member.management_host}", {"role": "backup"})
                control(url, "PATCH", f"/appliances/{pair.primary.management_host}", {"role": "primary"})
    finally:
        alive = runner.process.poll() is None
        restarts = runner.restarts()
        runner.stop()
    print("\ninjected | pair | expected state | reported after | state at window end | alerts raised")
    for row in rows:
        print(" | ".join(map(str, row)))
    detected = sum(1 for row in rows if row[3] != "not seen")
    print(f"\n{len(rows)} faults injected, {detected} reported as expected within their minute; "
          f"demo runner alive at the end: {alive}; child restarts: {len(restarts)}")
    for line in restarts:
        print("  " + line)


if __name__ == "__main__":
    main()
