"""Chaos harness: the portal's real workers against the simulator, with random faults, judged by the simulator.

    .venv/bin/python bench/chaos.py --pairs 20 --seconds 120 --faults 1000

What runs (all real processes, on loopback):
  * the simulator with N pairs (shared-IP method), sampled ~5 times a second through its control API: this is
    the ground truth (roles, faults), not the portal's view;
  * one Celery probe worker per location (``chaos.<location>`` queues), each probing from its own loopback
    source address (127.0.0.2, .3, ...), so the simulator can cut one location off;
  * one worker for the periodic ticks (``failover.probe_dispatch`` every second, ``evaluate_auto_failover``
    every 2 s, ``resume_stale_operations`` every 3 s: the harness plays beat) and two for operations;
  * a private redis-server on a free port as the broker (the machine's shared Redis is never touched, so it can
    be restarted), and a scratch PostgreSQL database.

Faults, drawn at random over ``--seconds`` (``--faults`` of them, a fixed ``--seed``): appliance crash (short, or
longer than the primary timeout on a serving primary: those warrant a failover), hang, slow answers, partition
between the members, flapping, one appliance cut off from one or two locations (shorter than the primary
timeout), a whole location cut off, a worker SIGKILLed (an operations worker while an operation runs, when
one does, else a probe worker), PostgreSQL connections terminated, the private Redis restarted. At most one
location is impaired at a time (cut off, or its worker killed and not ready again): with two, no quorum of
sound locations is left and holding back is the right answer. A killed worker is started again at once; it
is not killed again before it is ready. Then the faults stop and the run
drains for a primary timeout and a bit.

From the simulator's samples it counts: instants (samples) with two primaries serving in one pair (role primary,
neither down nor hung); failovers the portal performed (succeeded automatic-failover operations) and whether
each was warranted (the old primary down or hung without a break for at least the primary timeout before the
operation started); warranted outages (serving primary down or hung for the primary timeout plus a grace, the
standby fault-free) that got no failover; and what became of operations whose worker was killed.

Shortcuts, said plainly: the primary timeout is shortened below the portal's 30 s minimum (a direct update) to
fit a few minutes; the shared IPs are kept *silent* for the portal's knock (a listener with a full queue), since
the simulator does not serve them and a refusal would stop every failover at its fencing step: this removes a
safety net, so the split-brain count is if anything pessimistic.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bench.portal_processes as harness  # noqa: E402 (after sys.path)
from simulator.testing import free_port  # noqa: E402 (after sys.path)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=120.0, help="time over which the faults are injected")
    parser.add_argument("--faults", type=int, default=1000)
    parser.add_argument("--locations", default="east,west,north")
    parser.add_argument("--primary-timeout", type=int, default=12, help="seconds (shortened for the run)")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--outage-margin", type=float, default=20.0,
                        help="a warranted outage lasts the primary timeout plus this (to this + 10) seconds")
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/portal_chaos")
    parser.add_argument("--keep", action="store_true", help="keep the logs directory and the database")
    parser.add_argument("--no-redis-restart", action="store_true",
                        help="leave the private Redis alone (earlier runs needed it: a restart stopped a worker, "
                             "fixed by portal/celery_redis.py)")
    return parser.parse_args()


ARGS = parse_args()
LOCATIONS = [name.strip() for name in ARGS.locations.split(",") if name.strip()]
SOURCES = {name: f"127.0.0.{2 + i}" for i, name in enumerate(LOCATIONS)}
QUEUE_PREFIX = "chaos"
TICK_QUEUE, OPS_QUEUE = f"{QUEUE_PREFIX}.tick", f"{QUEUE_PREFIX}.ops"
REDIS_PORT = free_port()
WORK = Path(tempfile.mkdtemp(prefix="chaos-"))
# Everything the portal reads, for this process and the workers alike (portal.settings reads the environment);
# the broker and cache are the private Redis. create_schema() in main() recreates the database from the models.
SETTINGS = {
    "PORTAL_VAR_DIR": str(WORK / "var"), "PROBE_QUEUE": QUEUE_PREFIX,
    # The evaluations a probe batch requests at once (a returning old primary, a pair state change) go to the
    # tick worker too: without this they went to a queue no worker of the harness consumed.
    "FAILOVER_OPERATIONS_QUEUE": OPS_QUEUE, "FAILOVER_EVALUATION_QUEUE": TICK_QUEUE, "PROBE_FAILURES_TO_DOWN": "2", "PROBE_SUCCESSES_TO_UP": "1",
    "PROBE_CONFIRM_INTERVAL": "1", "PROBE_CLAIM_LEASE_SECONDS": "10", "PROBE_LOCATION_STALE_SECONDS": "15",
    "PROBE_ISOLATION_MIN_APPLIANCES": "6", "FAILOVER_KNOCK_TIMEOUT": "0.5", "FAILOVER_OPERATION_LOCK_TTL": "5",
    "FAILOVER_OPERATION_STALE_SECONDS": "6", "FAILOVER_POLL_INTERVAL": "0.05",
}
ENV = harness.scratch_django(database=ARGS.database, redis=f"redis://127.0.0.1:{REDIS_PORT}/0", name="chaos",
                             reuse=True, settings=SETTINGS)

from celery import Celery  # noqa: E402
from django.db import connection  # noqa: E402

from appliances.models import Appliance, ApplianceProbeStatus  # noqa: E402
from bench.scratch_db import create_schema  # noqa: E402
from demo.fleet_loader import fleet_load  # noqa: E402
from failover.alerts import AlertKind  # noqa: E402
from failover.models import BackupSettings, Operation, OperationKind, OperationStatus, Pair  # noqa: E402
from failover.services.locations import probe_location_create, probe_settings_set  # noqa: E402
from portal.models import Alert  # noqa: E402
from portal.permissions import SYSTEM  # noqa: E402
from simulator.fleet import generate_fleet  # noqa: E402
from simulator.testing import Silence, SimulatorProcess  # noqa: E402

DOWN_FAULTS = ("down", "hang")  # the appliance really serves nobody
PROBE_INTERVAL = 2  # seconds, every appliance (a direct update in load())
OPS_WORKER_SERVES = 30  # seconds an operations worker runs before it may be killed again (Chaos.kill_worker)
#: Issue 16's bound for a returning old primary: demoted within one probe interval + 3 s of answering again.
DEMOTION_BOUND = PROBE_INTERVAL + 3


# -- processes -------------------------------------------------------------------------------------------------

class Process:
    """A child process (worker, redis) that can be SIGKILLed and started again with the same command."""

    def __init__(self, name: str, command: list[str], env: dict | None = None, ready: str | None = None) -> None:
        self.name, self.command, self.env, self.ready = name, command, env, ready
        self.log = WORK / f"{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> Process:
        offset = self.log.stat().st_size if self.log.exists() else 0
        self.process = subprocess.Popen(self.command, cwd=ROOT, env={**os.environ, **(self.env or {})},
                                        stdout=self.log.open("ab"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90
        while self.ready and time.monotonic() < deadline:
            with self.log.open("rb") as handle:
                handle.seek(offset)
                if self.ready.encode() in handle.read():
                    break
            if self.process.poll() is not None:
                raise SystemExit(f"{self.name} exited; see {self.log}")
            time.sleep(0.1)
        self.ready_seen, self.ready_at = True, time.time()
        return self

    ready_seen = False  # started and ready, not killed since
    ready_at = 0.0

    @property
    def up(self) -> bool:
        """Ready and running: only such a worker is a fair target for another kill."""
        return self.ready_seen and self.process is not None and self.process.poll() is None

    @property
    def exited_on_its_own(self) -> bool:
        """It was up and stopped without being killed (a crash, e.g. "Unrecoverable error")."""
        return self.ready_seen and self.process is not None and self.process.poll() is not None

    def kill(self) -> None:
        self.ready_seen = False
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


def worker(name: str, queue: str, env: dict | None = None) -> Process:
    return Process(name, [sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool", "solo", "-Q", queue,
                          "-n", f"{name}@chaos", "--without-gossip", "--without-mingle", "--without-heartbeat",
                          "--loglevel", "INFO"], env, ready=" ready.")


def private_redis() -> Process:
    # No persistence: a restart loses what was queued, as a crashed broker without AOF would.
    return Process("redis", ["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no"], ready="Ready to accept connections")


# -- setup -------------------------------------------------------------------------------------------------------

def load(sim: SimulatorProcess) -> list[Pair]:
    loaded = fleet_load(actor=SYSTEM, fleet=sim.fleet_path, ca_pem=sim.ca_path.read_text(), port=sim.port, pairs=True)
    organization = loaded.organizations[0]
    for name in LOCATIONS:
        probe_location_create(actor=SYSTEM, name=name)
    probe_settings_set(actor=SYSTEM, organization=organization, locations=LOCATIONS)
    # Direct updates: below the form's minimums, to fit the run in minutes (said in the docstring).
    Appliance.objects.update(probe_interval=PROBE_INTERVAL, probe_timeout=2)
    ApplianceProbeStatus.objects.update(next_probe_at=None)
    BackupSettings.objects.update(primary_timeout=ARGS.primary_timeout, connectivity_test_ips=["127.0.0.1"],
                                  automatic_failover=False)
    Pair.objects.update(portal_auto_failover=True)
    return list(Pair.objects.select_related("primary", "backup"))


# -- ground truth ------------------------------------------------------------------------------------------------

@dataclass
class Sample:
    at: float
    appliances: dict[str, dict]  # address -> {"role", "faults"}


class Sampler(threading.Thread):
    def __init__(self, sim: SimulatorProcess, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.sim, self.interval = sim, interval
        self.samples: list[Sample] = []
        self.stop_event = threading.Event()

    def run(self) -> None:
        while not self.stop_event.is_set():
            with contextlib.suppress(Exception):
                rows = self.sim.control("GET", "/appliances")
                self.samples.append(Sample(time.time(), {r["address"]: r for r in rows}))
            self.stop_event.wait(self.interval)

    def latest(self) -> Sample:
        return self.samples[-1]


class PortalSampler(threading.Thread):
    """The portal's view beside the ground truth: every ``interval``, what each pair's state, each appliance's
    combined verdict and each location's view were, kept as changes only ((at, key, value) per column that
    changed), so each failover and each missed one can be explained afterwards from what the portal saw."""

    def __init__(self, interval: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.changes: list[tuple[float, tuple, object]] = []
        self.stop_event = threading.Event()

    def snapshot(self) -> dict[tuple, object]:
        from failover.models import LocationStatus, ProbeLocation

        state = {}
        for pk, pair_state, since in Pair.objects.values_list("pk", "state", "primary_unreachable_since"):
            state[("pair", pk)] = (pair_state, since)
        for pk, reachable, failing, role, successes in Appliance.objects.values_list(
                "pk", "status_reachable", "probe_status__status_failing_since", "status_role",
                "probe_status__status_successes"):
            state[("appliance", pk)] = (reachable, failing, role, successes)
        for pk, location, reachable, failing, checked, failures in LocationStatus.objects.values_list(
                "appliance_id", "location", "status_reachable", "status_failing_since", "status_checked_at",
                "status_failures"):
            # The probe time itself changes at every probe: kept only with a change of verdict or failure count.
            state[("location", pk, location)] = (reachable, failing, failures, checked)
        for name, since in ProbeLocation.objects.values_list("name", "isolated_since"):
            state[("isolated", name)] = since is not None
        return state

    def run(self) -> None:
        previous: dict[tuple, object] = {}
        while not self.stop_event.is_set():
            try:
                current, at = self.snapshot(), time.time()
            except Exception:  # the database connections are terminated now and then: that is one of the faults
                connection.close()
                self.stop_event.wait(self.interval)
                continue
            for key, value in current.items():
                old = previous.get(key)
                if key[0] == "location" and old is not None and old[:3] == value[:3]:
                    continue
                if old != value:
                    self.changes.append((at, key, value))
                    previous[key] = value
            self.stop_event.wait(self.interval)
        connection.close()


def serving(row: dict) -> bool:
    return row["role"] == "primary" and not any(f in row["faults"] for f in DOWN_FAULTS)


def really_down(row: dict) -> bool:
    return any(f in row["faults"] for f in DOWN_FAULTS)


# -- faults ------------------------------------------------------------------------------------------------------

@dataclass
class Chaos:
    sim: SimulatorProcess
    pairs: list[Pair]
    sampler: Sampler
    location_workers: dict[str, Process]
    ops_workers: list[Process]
    redis: Process
    rng: random.Random
    injected: Counter = field(default_factory=Counter)
    ends: list[tuple[float, str, object]] = field(default_factory=list)  # (when, kind, what) to undo
    busy: set[str] = field(default_factory=set)  # appliance addresses with a fault on
    killed_operations: set[int] = field(default_factory=set)
    long_outages: list[tuple[int, str, float, float]] = field(default_factory=list)  # pair, address, from, to
    # After a fault ends, an appliance rests fault-free for half a primary timeout: back-to-back short faults
    # would otherwise add up to an outage longer than the timeout, and a failover would then be warranted.
    rested: dict[str, float] = field(default_factory=dict)
    last_global: dict[str, float] = field(default_factory=dict)
    # Every worker, watched like a supervisor (systemd) would: one that exits on its own is counted and started
    # again, so a crash shows in the results instead of silently taking a location or the ticks away.
    supervised: list[Process] = field(default_factory=list)
    crashed: Counter = field(default_factory=Counter)
    undo_failures: int = 0
    # (when, what happened, to what): every fault set and undone, for the evidence printed beside each failover.
    events: list[tuple[float, str, str]] = field(default_factory=list)

    def note(self, what: str, target: object) -> None:
        self.events.append((time.time(), what, str(target)))

    @property
    def reserved(self) -> list[Pair]:
        """Pairs kept for the long crashes (warranted failovers), so one is always free to crash."""
        return self.pairs[: max(2, len(self.pairs) // 4)]

    def addresses(self) -> list[str]:
        reserved = {pair.pk for pair in self.reserved}
        return [a for pair in self.pairs if pair.pk not in reserved
                for a in (pair.primary.management_host, pair.backup.management_host)]

    def free(self) -> list[str]:
        now = time.time()
        return [a for a in self.addresses() if a not in self.busy and self.rested.get(a, 0) <= now]

    def spaced(self, kind: str, seconds: float) -> bool:
        """Whether a fleet-wide fault of this kind may happen now (at most one per ``seconds``)."""
        if time.time() - self.last_global.get(kind, 0.0) < seconds:
            return False
        self.last_global[kind] = time.time()
        return True

    def appliance_fault(self, kind: str, fault: str, seconds: float, **params) -> bool:
        free = self.free()
        if not free:
            return False
        address = self.rng.choice(free)
        self.sim.set_fault(address, fault, **params)
        self.note(f"{kind} ({seconds:.1f} s, {params or ''})", address)
        self.busy.add(address)
        self.ends.append((time.time() + seconds, "clear", address))
        self.injected[kind] += 1
        return True

    def long_crash(self) -> bool:
        """A serving primary crashes for longer than the primary timeout, its standby fault-free: warranted."""
        latest = self.sampler.latest().appliances
        candidates = []
        now = time.time()
        for pair in self.reserved:
            members = (pair.primary.management_host, pair.backup.management_host)
            # Rested too: a crash 0.4 s after the previous one ended is one outage with a gap no probe can see,
            # yet it was judged as a new outage, so its failover "unwarranted" (an earlier version did this).
            if any(m in self.busy or self.rested.get(m, 0) > now for m in members):
                continue
            serving_now = [m for m in members if serving(latest[m])]
            if len(serving_now) == 1:
                candidates.append((pair, serving_now[0], next(m for m in members if m != serving_now[0])))
        if not candidates:
            return False
        pair, address, standby = self.rng.choice(candidates)
        # Long enough for the portal to see it (probes, anti-flap), wait the timeout, and act.
        seconds = ARGS.primary_timeout + self.rng.uniform(ARGS.outage_margin, ARGS.outage_margin + 10)
        self.sim.set_fault(address, "down")
        self.note(f"long crash ({seconds:.1f} s)", address)
        self.busy.update((address, standby))  # the standby stays fault-free for the whole outage
        self.ends.append((time.time() + seconds, "clear", address))
        self.ends.append((time.time() + seconds, "release", standby))
        self.long_outages.append((pair.pk, address, time.time(), time.time() + seconds))
        self.injected["crash (longer than the primary timeout)"] += 1
        return True

    def cut_appliance(self, locations: int) -> bool:
        free = self.free()
        if not free:
            return False
        address = self.rng.choice(free)
        sources = [SOURCES[name] for name in self.rng.sample(LOCATIONS, locations)]
        silent = self.rng.random() < 0.5
        self.sim.set_fault(address, "cut", sources=sources, silent=silent)
        seconds = self.rng.uniform(1, ARGS.primary_timeout * 0.4)
        names = [name for name, source in SOURCES.items() if source in sources]
        self.note(f"cut off from {'+'.join(names)} ({seconds:.1f} s{', silent' if silent else ''})", address)
        self.busy.add(address)
        self.ends.append((time.time() + seconds, "clear", address))
        self.injected[f"appliance cut off from {locations} location(s)"] += 1
        return True

    def impaired_locations(self) -> set[str]:
        """Locations cut off or whose probe worker is down (killed, or not ready again yet)."""
        cut = {what for _when, kind, what in self.ends if kind == "restore"}
        return cut | {name for name, process in self.location_workers.items() if not process.up}

    def cut_location(self) -> bool:
        name = self.rng.choice(LOCATIONS)
        # One location impaired at a time (cut off, or its worker killed): two at once leave no quorum of sound
        # locations, and then holding back is the portal's right answer, a different test.
        if self.impaired_locations():
            return False
        silent = self.rng.random() < 0.5
        self.sim.cut_source(SOURCES[name], silent=silent)
        seconds = self.rng.uniform(3, 10)
        self.note(f"location cut off from every appliance ({seconds:.1f} s{', silent' if silent else ''})", name)
        self.ends.append((time.time() + seconds, "restore", name))
        self.injected["location cut off from every appliance"] += 1
        return True

    def kill_worker(self) -> bool:
        """SIGKILL an operations worker while an operation runs, else a probe worker; only a worker that is
        up (started and ready): killing one again while it restarts would keep it down for good, which measures
        the harness, not the portal (an earlier version did, and starved the operations of their worker)."""
        if not self.spaced("kill", 3):
            return False
        running = list(Operation.objects.filter(status=OperationStatus.RUNNING).values_list("pk", flat=True))
        # Two operations workers, as production runs several; one is killed only while the other is up, and
        # only after it has served for a while: on a loaded machine a worker takes 20-40 s to start, and with one
        # worker killed whenever it was up and busy again the operations had no worker for most of a run
        # (failovers cancelled because they ran after the outage ended, fences late), which measured the
        # restart time, not the portal. Which worker runs which operation is not known: every operation running
        # at the kill is watched (each must complete exactly once either way).
        fair = [w for w in self.ops_workers if w.up and time.time() - w.ready_at >= OPS_WORKER_SERVES]
        if running and fair and all(w.up for w in self.ops_workers):
            target = self.rng.choice(fair)
            self.killed_operations.update(running)
            self.injected["operations worker SIGKILLed mid-operation"] += 1
        else:
            if self.impaired_locations():  # one location impaired at a time (cut_location says why)
                return False
            target = self.location_workers[self.rng.choice(LOCATIONS)]
            self.injected["probe worker SIGKILLed"] += 1
        target.kill()
        self.note("SIGKILL", target.name)
        self.ends.append((time.time() + self.rng.uniform(0.5, 2), "restart", target))
        return True

    def drop_database_connections(self) -> bool:
        if not self.spaced("database", 2):
            return False
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                           "AND pid <> pg_backend_pid()")
        self.injected["PostgreSQL connections terminated"] += 1
        return True

    def restart_redis(self) -> bool:
        # Rare: each restart sends every worker into its reconnect back-off (growing to many seconds).
        if ARGS.no_redis_restart or not self.spaced("redis", 40):
            return False
        self.redis.kill()
        self.redis.start()
        self.note("Redis restarted", "redis")
        self.injected["Redis restarted"] += 1
        return True

    def inject(self) -> bool:
        """One random fault; False when the one drawn had no free target (the caller draws again)."""
        rng = self.rng
        roll = rng.random()
        table = [
            (0.21, lambda: self.appliance_fault("crash (short)", "down", rng.uniform(0.5, 4))),
            (0.10, lambda: self.appliance_fault("hang", "hang", rng.uniform(0.5, 4), handshake=rng.random() < 0.5)),
            (0.14, lambda: self.appliance_fault("slow answers", "slow", rng.uniform(0.5, 4), ms=rng.randint(300, 2500))),
            (0.10, lambda: self.appliance_fault("partition between the members", "partition", rng.uniform(0.5, 4))),
            (0.10, lambda: self.appliance_fault("flapping", "flapping", rng.uniform(0.5, 4),
                                                period=rng.choice([0.0, 0.5, 1.0]))),
            (0.14, lambda: self.cut_appliance(1)),
            (0.06, lambda: self.cut_appliance(2)),
            (0.03, self.long_crash),
            (0.04, self.cut_location),
            (0.03, self.kill_worker),
            (0.03, self.drop_database_connections),
            (0.02, self.restart_redis),
        ]
        for weight, action in table:
            roll -= weight
            if roll <= 0:
                return action()
        return False

    def supervise(self) -> None:
        for process in self.supervised:
            if process.exited_on_its_own:
                self.crashed[process.name] += 1
                process.ready_seen = False
                threading.Thread(target=process.start, daemon=True).start()

    def undo_due(self, now: float) -> None:
        self.supervise()
        due = [item for item in self.ends if item[0] <= now]
        self.ends = [item for item in self.ends if item[0] > now]
        for _when, kind, what in due:
            try:
                if kind == "clear":
                    self.sim.clear_fault(what)
                    self.note("faults cleared", what)
                    self.busy.discard(what)
                    self.rested[what] = time.time() + ARGS.primary_timeout / 2
                elif kind == "release":
                    self.busy.discard(what)
                elif kind == "restore":
                    self.sim.restore_source(SOURCES[what])
                    self.note("location restored", what)
                elif kind == "restart":  # in the background: a worker takes seconds to come up
                    self.note("restarted", what.name)
                    threading.Thread(target=what.start, daemon=True).start()
            except Exception as exc:
                # Never drop an undo: a fault left on by a failed control call (the simulator busy under load)
                # would outlast what was drawn, e.g. a second location cut off while the first still is.
                self.undo_failures += 1
                print(f"  undo {kind} {what} failed ({exc!r}); retrying", flush=True)
                self.ends.append((time.time() + 0.5, kind, what))


class Ticker(threading.Thread):
    """Beat's part: the periodic tasks, sent to the tick worker's queue."""

    def __init__(self, app: Celery) -> None:
        super().__init__(daemon=True)
        self.app, self.stop_event = app, threading.Event()

    def run(self) -> None:
        tick = 0
        while not self.stop_event.is_set():
            with contextlib.suppress(Exception):
                self.app.send_task("failover.probe_dispatch", queue=TICK_QUEUE, expires=2)
                if tick % 2 == 0:
                    self.app.send_task("failover.evaluate_auto_failover", queue=TICK_QUEUE, expires=3)
                if tick % 3 == 0:
                    self.app.send_task("failover.resume_stale_operations", queue=TICK_QUEUE, expires=4)
            tick += 1
            self.stop_event.wait(1.0)


# -- judging -----------------------------------------------------------------------------------------------------

def miss_reason(pair_pk: int, start: float, end: float) -> str:
    """Why a warranted outage got no failover, from the portal's own records: the operation it started and what
    became of it, else the first reason the policy gave for not acting (its alert), else nothing recorded."""
    window = (datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end + 1, UTC))
    operation = Operation.objects.filter(pair_id=pair_pk, kind=OperationKind.AUTO_FAILOVER,
                                         created_at__range=window).order_by("created_at").first()
    if operation is not None:
        return f"operation {operation.status}: {(operation.error or '')[:40]}"
    blocked = Alert.objects.filter(kind=AlertKind.AUTO_FAILOVER_BLOCKED, scope_id=pair_pk,
                                   created_at__range=window).order_by("created_at").first()
    if blocked is not None:
        return "blocked: " + blocked.dedup_key.rsplit(":", 1)[-1]  # the decision code (autofailover._explain_block)
    return "no decision recorded (the pair never counted as primary-unreachable for the timeout)"


def _stamp(value: object, zero: float) -> object:
    """Datetimes as seconds relative to ``zero`` (the moment being explained), the rest as is."""
    if isinstance(value, datetime):
        return f"{value.timestamp() - zero:+.1f}"
    if isinstance(value, tuple):
        return tuple(_stamp(item, zero) for item in value)
    return value


def evidence(chaos: Chaos, samples: list[Sample], portal: PortalSampler, *, pair_pk: int, zero: float,
             start: float, end: float, title: str) -> list[str]:
    """What the simulator (ground truth) and the portal saw of one pair between ``start`` and ``end``, in
    seconds relative to ``zero``: the members' fault stretches, the harness's fault events (the members', and the
    location-wide ones), then every change of the pair's state, the members' combined verdicts (reachable,
    failing_since, role, successes), each location's view (reachable, failing_since, failures, probed at) and
    location isolation."""
    pair = next(p for p in chaos.pairs if p.pk == pair_pk)
    members = {pair.primary.pk: pair.primary.management_host, pair.backup.pk: pair.backup.management_host}
    lines = [title]
    for pk, address in members.items():
        stretches, current, since = [], None, None
        for sample in samples:
            if not start <= sample.at <= end:
                continue
            row = sample.appliances[address]
            now = (row["role"], ",".join(sorted(row["faults"])) or "-")
            if now != current:
                if current is not None:
                    stretches.append(f"{since - zero:+.1f}..{sample.at - zero:+.1f} {current[0]} {current[1]}")
                current, since = now, sample.at
        if current is not None:
            stretches.append(f"{since - zero:+.1f}.. {current[0]} {current[1]}")
        lines.append(f"  truth {address} (#{pk}): " + "; ".join(stretches))
    for at, what, target in chaos.events:
        if start <= at <= end and (target in members.values() or target in LOCATIONS
                                   or target in ("redis", *(f"probe-{name}" for name in LOCATIONS))
                                   or target.startswith("operations")):
            lines.append(f"  event {at - zero:+6.1f} {target}: {what}")
    before: dict[tuple, tuple[float, object]] = {}  # each value as it stood when the window opened
    shown = []
    for at, key, value in portal.changes:
        if at > end:
            break
        if not ((key[0] == "pair" and key[1] == pair_pk) or (key[0] in ("appliance", "location") and key[1] in members)
                or key[0] == "isolated"):
            continue
        if at < start:
            before[key] = (start, value)
        else:
            shown.append((at, key, value))
    initial = [(at, key, value) for key, (at, value) in before.items()]
    for at, key, value in [*initial, *shown]:
        label = " ".join(str(part) for part in key)
        if key[0] == "appliance":
            label = f"verdict {members[key[1]]}"
        elif key[0] == "location":
            label = f"view {members[key[1]]}@{key[2]}"
        lines.append(f"  portal {at - zero:+6.1f} {label}: {_stamp(value, zero)}")
    return lines


def two_primary_episode(pair_pk: int, start: float, returning: str | None, *, end: float | None) -> dict:
    """One stretch with both members serving as primary: how long, whether the portal ended it within issue 16's
    bound (one probe interval + 3 s after the returning member could first answer: the episode's start, since
    the simulator brings an old primary back primary with its shared IP at once), and the fence that ended it
    (the BECOME_BACKUP operation on the returning member: when it was created, started and finished)."""
    duration = None if end is None else end - start
    row = {"pair": pair_pk, "returning": returning, "seconds": None if duration is None else round(duration, 1),
           "within_bound": duration is not None and duration <= DEMOTION_BOUND}
    window = (datetime.fromtimestamp(start - 5, UTC), datetime.fromtimestamp((end or time.time()) + 2, UTC))
    fence = (Operation.objects.filter(pair_id=pair_pk, kind=OperationKind.BECOME_BACKUP, created_at__range=window)
             .order_by("created_at").first())
    if fence is not None:
        row["fence"] = {"created": round(fence.created_at.timestamp() - start, 1), "status": fence.status,
                        "started": fence.started_at and round(fence.started_at.timestamp() - start, 1),
                        "finished": fence.finished_at and round(fence.finished_at.timestamp() - start, 1)}
    return row


def longest_silence(process: Process, start: float, end: float) -> float:
    """The longest stretch (seconds) between ``start`` and ``end`` in which the worker took no task: a worker that
    is up but consumes nothing (e.g. wedged after a broker restart) shows here, not in the supervisor's count."""
    stamps = [start]
    with contextlib.suppress(OSError):
        for line in process.log.read_text(errors="replace").splitlines():
            if "] received" in line and line.startswith("["):
                with contextlib.suppress(ValueError):
                    at = datetime.strptime(line[1:24], "%Y-%m-%d %H:%M:%S,%f").replace(tzinfo=UTC).timestamp()
                    if start <= at <= end:
                        stamps.append(at)
    stamps.append(end)
    return round(max(b - a for a, b in zip(stamps, stamps[1:], strict=False)), 1)


def judge(chaos: Chaos, samples: list[Sample], portal: PortalSampler | None = None) -> dict:
    pairs = {pair.pk: (pair.primary.management_host, pair.backup.management_host) for pair in chaos.pairs}
    pk_address = dict(Appliance.objects.values_list("pk", "management_host"))
    two_primaries = 0
    open_episodes, episodes = {}, []  # pair -> (start, returning member); closed ones as dicts
    previous = None
    for sample in samples:
        for pk, (a, b) in pairs.items():
            both = serving(sample.appliances[a]) and serving(sample.appliances[b])
            two_primaries += both
            if both and pk not in open_episodes:
                # The member that was away in the sample before: it came back (still) primary.
                away = [m for m in (a, b) if previous is not None and really_down(previous.appliances[m])]
                open_episodes[pk] = (sample.at, away[0] if away else None)
            elif not both and pk in open_episodes:
                episodes.append(two_primary_episode(pk, *open_episodes.pop(pk), end=sample.at))
        previous = sample
    episodes += [two_primary_episode(pk, start, returning, end=None) for pk, (start, returning) in open_episodes.items()]

    def down_since(address: str, before: float) -> tuple[float, float] | None:
        """When the appliance's current unbroken really-down stretch began, as (the last sample that saw it up,
        the first that saw it down): it began in between (None: up at ``before``). The samples are ~0.2 s
        apart, more on a loaded machine."""
        start, last_up = None, None
        for sample in samples:
            if sample.at > before:
                break
            if really_down(sample.appliances[address]):
                start = start or (last_up if last_up is not None else sample.at, sample.at)
            else:
                start, last_up = None, sample.at
        return start

    failovers = list(Operation.objects.filter(kind=OperationKind.AUTO_FAILOVER, status=OperationStatus.SUCCEEDED))
    warranted, unwarranted, explained, borderline = 0, [], [], []
    for operation in failovers:
        old = pk_address.get((operation.result or {}).get("old_primary"))
        started = operation.created_at.timestamp()
        since = down_since(old, started) if old else None
        if since is not None and started - since[1] >= ARGS.primary_timeout:
            warranted += 1
        elif since is not None and started - since[0] >= ARGS.primary_timeout:
            # Down for the timeout or a little less: the crash fell between two samples. Counted as warranted,
            # and listed, so the sampling's uncertainty is not hidden either way.
            warranted += 1
            borderline.append((operation.pk, old, round(started - since[1], 1), round(started - since[0], 1)))
        else:
            unwarranted.append((operation.pk, old, None if since is None else round(started - since[1], 1)))
            if portal is not None:
                explained += evidence(
                    chaos, samples, portal, pair_pk=operation.pair_id, zero=started,
                    start=started - ARGS.primary_timeout - 25, end=started + 3,
                    title=f"UNWARRANTED failover #{operation.pk} of pair #{operation.pair_id}, old primary {old} "
                          f"(t=0: the operation created); its decision: {operation.reason}")
    missed, missed_why = [], Counter()
    for pair_pk, address, start, end in chaos.long_outages:
        started = [o for o in failovers if o.pair_id == pair_pk and start <= o.created_at.timestamp() <= end + 1]
        if not started:
            missed.append((pair_pk, address, round(end - start, 1)))
            why = miss_reason(pair_pk, start, end)
            missed_why[why] += 1
            if portal is not None:
                explained += evidence(chaos, samples, portal, pair_pk=pair_pk, zero=start, start=start - 5,
                                      end=end + 3, title=f"MISSED outage of {address} (pair #{pair_pk}, t=0: the "
                                      f"crash, lasting {end - start:.1f} s): {why}")
    killed = {pk: (status, attempts) for pk, status, attempts in Operation.objects.filter(
        pk__in=chaos.killed_operations).values_list("pk", "status", "attempts")}
    return {
        "samples": len(samples),
        "two_primaries_samples": two_primaries, "two_primaries_episodes": len(episodes),
        "two_primary_episodes_within_bound": f"{sum(e['within_bound'] for e in episodes)} of {len(episodes)} "
                                             f"(demoted within {DEMOTION_BOUND} s of answering again)",
        "two_primary_episodes_detail": episodes,
        "failovers": len(failovers), "warranted": warranted, "unwarranted": unwarranted,
        "warranted_within_sampling": borderline,
        "warranted_outages": len(chaos.long_outages), "missed": missed, "missed_why": dict(missed_why),
        "operations": {f"{kind} {status}": count for (kind, status), count in
                       Counter(Operation.objects.values_list("kind", "status")).items()},
        "killed_operations": killed,
        "still_active": Operation.objects.filter(status__in=OperationStatus.active()).count(),
        "workers_exited_on_their_own": dict(chaos.crashed), "undo_retries": chaos.undo_failures,
        "longest_silence_s": {name: longest_silence(process, samples[0].at, samples[-1].at)
                              for name, process in chaos.location_workers.items()} if samples else {},
        "evidence": explained,
    }


def main() -> None:
    started = time.time()
    rng = random.Random(ARGS.seed)
    redis = private_redis().start()
    create_schema()
    fleet = generate_fleet(1, ARGS.pairs, 0, settings={"sync_interval": 0, "automatic_failover": False},
                           simulator={"time_scale": 0.01, "swap_gap": 20, "link_bandwidth": 1_000_000_000})
    # Shared IPs of our own (127.251.x), so silencing them never collides with the test suite's (127.250.x).
    for index, pair_data in enumerate(pair for org in fleet["organisations"] for pair in org["pairs"]):
        pair_data["shared_ips"] = [f"127.251.{index // 250}.{index % 250 + 1}"]
    sim = SimulatorProcess(fleet)
    sim.start()
    silence = Silence()
    processes: list[Process] = [redis]
    sampler = Sampler(sim)
    portal_sampler = PortalSampler()
    ticker = None
    try:
        pairs = load(sim)
        for pair in pairs:
            for target in ((pair.shared_ip, 443), (pair.shared_ip, sim.port)):
                silence.add(*target)
        location_workers = {name: worker(f"probe-{name}", f"{QUEUE_PREFIX}.{name}", {"PROBE_SOURCE_ADDRESS": source})
                            for name, source in SOURCES.items()}
        ops_workers = [worker(f"operations-{n}", OPS_QUEUE) for n in (1, 2)]
        tick_worker = worker("ticks", TICK_QUEUE)
        for process in (*location_workers.values(), *ops_workers, tick_worker):
            processes.append(process)  # before it starts: stopped at the end even if a later start fails
            process.start()
        app = Celery(broker=ENV["CELERY_BROKER_URL"])
        ticker = Ticker(app)
        ticker.start()
        sampler.start()
        portal_sampler.start()
        # Let the fleet be seen healthy from every location before the first fault.
        deadline = time.time() + 60
        while time.time() < deadline and Pair.objects.exclude(state="healthy").exists():
            time.sleep(0.5)
        healthy = Pair.objects.filter(state="healthy").count()
        print(f"setup {time.time() - started:.0f} s; pairs healthy: {healthy}/{len(pairs)}", flush=True)
        if healthy < len(pairs):
            # Faults on a fleet the portal never saw healthy judge nothing (a run on a machine too loaded for the
            # probes to answer in time started that way and counted failovers of appliances never seen up).
            raise SystemExit("the fleet was not seen healthy before the faults: machine too loaded? not judged")
        chaos = Chaos(sim, pairs, sampler, location_workers, ops_workers, redis, rng,
                      supervised=[*location_workers.values(), *ops_workers, tick_worker])
        first = len(sampler.samples)
        begin = time.time()
        injected = 0
        while injected < ARGS.faults and time.time() < begin + ARGS.seconds * 2:
            due = begin + ARGS.seconds * injected / ARGS.faults
            while time.time() < due:
                chaos.undo_due(time.time())
                time.sleep(min(0.02, max(0.0, due - time.time())))
            chaos.undo_due(time.time())
            try:
                done = chaos.inject()
            except Exception as exc:  # a fault that could not be set (e.g. the control port busy): say so, go on
                print(f"  fault not injected: {exc!r}", flush=True)
                done = False
            if not done:
                time.sleep(0.005)
                continue
            injected += 1
            if injected % 100 == 0:
                print(f"  {injected} faults, {time.time() - begin:.0f} s", flush=True)
        injecting = time.time() - begin
        drain_until = max([when for when, *_ in chaos.ends] + [time.time()]) + ARGS.primary_timeout + 15
        while time.time() < drain_until:
            chaos.undo_due(time.time())
            time.sleep(0.2)
        chaos.undo_due(float("inf"))
        retry_until = time.time() + 30  # undos whose control call failed are retried
        while chaos.ends and time.time() < retry_until:
            time.sleep(0.5)
            chaos.undo_due(time.time())
        time.sleep(ARGS.primary_timeout)  # the last fence-returned demotions
        settle = time.time() + 90  # every operation, a killed worker's included, should finish
        while time.time() < settle and Operation.objects.filter(status__in=OperationStatus.active()).exists():
            time.sleep(1)
        sampler.stop_event.set()
        portal_sampler.stop_event.set()
        sampler.join()
        portal_sampler.join()
        result = judge(chaos, sampler.samples[first:], portal_sampler)
    finally:
        if ticker:
            ticker.stop_event.set()
        sampler.stop_event.set()
        portal_sampler.stop_event.set()
        for process in reversed(processes):
            process.stop()
        silence.close()
        sim.stop()
        connection.close()
        if not ARGS.keep:
            harness.drop_database(ARGS.database)
    total = sum(chaos.injected.values())
    command = "python bench/chaos.py " + " ".join(sys.argv[1:])
    print(f"\n{command}\n{total} faults injected in {injecting:.0f} s ({len(pairs)} pairs, locations "
          f"{', '.join(LOCATIONS)}, primary timeout {ARGS.primary_timeout} s, seed {ARGS.seed}); "
          f"run {time.time() - started:.0f} s in all")
    for kind, count in chaos.injected.most_common():
        print(f"  {count:5d}  {kind}")
    lines = result.pop("evidence")
    print(json.dumps(result, indent=1, default=str))
    if lines:
        print("\nEvidence (seconds relative to t=0; portal views: reachable, failing_since, failures, probed at):")
        print("\n".join(lines))
    if not ARGS.keep:
        shutil.rmtree(WORK, ignore_errors=True)
    else:
        print(f"logs: {WORK}; database: {ARGS.database}")


if __name__ == "__main__":
    main()
