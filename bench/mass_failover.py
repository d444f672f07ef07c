"""Many primaries die at once: how long until every pair has failed over, and were two primaries ever serving?

    .venv/bin/python bench/mass_failover.py --pairs 100 --interval 5 --timeout 10

``--pairs`` pairs (shared IP), portal automatic failover on for all, probe interval ``--interval`` s, primary
timeout ``--timeout`` s (set in the database). The portal's real beat and workers (``bench/portal_processes.py``;
``--operations-concurrency`` threads on the operations worker). Every primary stops answering at the same
instant and its shared IP goes silent. From then on the simulator's own state of every appliance is sampled
(one call to its control API's /appliances per sample): how many pairs have their standby serving, and whether any pair ever had both
members primary and answering (an instant with two primaries). Prints when the first and the last failover
finished, relative to the outage and to the moment the timeout ran out, and the failovers per second.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import portal_processes as harness  # noqa: E402 (after sys.path)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=100)
    parser.add_argument("--interval", type=int, default=5)
    parser.add_argument("--timeout", type=int, default=10)
    parser.add_argument("--operations-concurrency", type=int, default=4)
    parser.add_argument("--operations-pool", default="threads", choices=["threads", "prefork"])
    harness.add_scratch_arguments(parser, name="mass", redis_db=10)
    return parser.parse_args()


ARGS = parse_args()

ENV = harness.scratch_django(database=ARGS.database, redis=ARGS.redis, name="mass")

import redis  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Min  # noqa: E402

from appliances.models import Appliance  # noqa: E402
from demo.fleet_loader import fleet_load  # noqa: E402
from failover.models import (  # noqa: E402
    BackupSettings,
    Operation,
    OperationKind,
    OperationStatus,
    OperationStep,
    Pair,
)
from failover.swing.knock import service_targets  # noqa: E402
from portal.permissions import SYSTEM  # noqa: E402
from simulator.testing import Silence, SimulatorProcess  # noqa: E402


def main() -> None:
    log_dir = Path(os.environ["PORTAL_VAR_DIR"])
    log_dir.mkdir(parents=True, exist_ok=True)
    redis.Redis.from_url(ARGS.redis).flushdb()
    call_command("migrate", verbosity=0)
    sim = SimulatorProcess(organisations=1, pairs_per_org=ARGS.pairs, singles=0).start()
    processes, silence = [], Silence()
    try:
        loaded = fleet_load(actor=SYSTEM, fleet=sim.fleet_path, ca_pem=sim.ca_path.read_text(), port=sim.port,
                            pairs=True)
        pairs = list(loaded.pairs.values())
        Pair.objects.update(portal_auto_failover=True)
        Appliance.objects.update(probe_interval=ARGS.interval)
        BackupSettings.objects.update(primary_timeout=ARGS.timeout, connectivity_test_ips=["127.0.0.1"],
                                      automatic_failover=False)
        connection.close()
        processes = harness.start_portal_processes(log_dir, ENV, operations_pool=ARGS.operations_pool,
                                           operations_concurrency=ARGS.operations_concurrency)
        # Two good probes of 2,000 members by one solo probe worker: minutes on a loaded two-core machine.
        harness.wait(lambda: Pair.objects.filter(state="healthy").count() == len(pairs), 420, "every pair healthy", 0.5)
        members = {p.pk: (p.primary.management_host, p.backup.management_host) for p in pairs}
        for pair in pairs:
            for address, port in service_targets(str(pair.shared_ip), pair.primary.management_port):
                silence.add(address, port)
        print(f"{len(pairs)} pairs healthy; probe interval {ARGS.interval} s, primary timeout {ARGS.timeout} s, "
              f"operations worker: {ARGS.operations_pool} x {ARGS.operations_concurrency}")

        outage = time.time()
        for pair in pairs:  # one control call each, in a burst: the whole fleet is down within a fraction of this
            sim.set_fault(pair.primary.management_host, "down")
        downed = time.time() - outage
        served_at: dict[int, float] = {}
        detected_at: dict[int, float] = {}  # first sample in which the portal no longer called the pair healthy
        two_primaries = samples = 0
        first_unreachable = None  # the earliest "since the first failed probe" the portal recorded
        deadline = outage + 600
        while len(served_at) < len(pairs) and time.time() < deadline:
            state = {a["address"]: a for a in sim.control("GET", "/appliances")}
            now = time.time() - outage
            samples += 1
            for pair_id, (primary, backup) in members.items():
                up = [state[a] for a in (primary, backup) if "down" not in state[a]["faults"]]
                if sum(1 for a in up if a["role"] == "primary") > 1:
                    two_primaries += 1
                if pair_id not in served_at and state[backup]["role"] == "primary":
                    served_at[pair_id] = now
            for pair_id in Pair.objects.exclude(state="healthy").exclude(pk__in=list(detected_at)).values_list(
                    "pk", flat=True):
                detected_at[pair_id] = now
            if first_unreachable is None:
                first_unreachable = Pair.objects.aggregate(since=Min("primary_unreachable_since"))["since"]
            time.sleep(0.2)
        operations = Operation.objects.filter(kind=OperationKind.AUTO_FAILOVER)
        # Sampling stops once every standby serves, but the operations still verify and notify: their outcome,
        # steps and durations are read when they have finished (else the last ones were left out of every figure).
        settle = time.time() + 120
        while operations.filter(status__in=OperationStatus.active()).exists() and time.time() < settle:
            time.sleep(0.5)
        succeeded = operations.filter(status=OperationStatus.SUCCEEDED).count()
        failed = operations.exclude(status__in=[OperationStatus.SUCCEEDED, *OperationStatus.active()]).count()
        running = operations.filter(status__in=OperationStatus.active()).count()
        times = sorted(served_at.values())
        print(f"all {len(pairs)} primaries down within {downed:.1f} s")
        if times:
            first_due = (first_unreachable.timestamp() - outage + ARGS.timeout if first_unreachable
                         else float("nan"))
            print(f"standby serving: {len(times)}/{len(pairs)}; first at {times[0]:.1f} s, last at {times[-1]:.1f} s "
                  f"after the outage (timeouts ran out from {first_due:.1f} s); "
                  f"{len(times) / max(0.1, times[-1] - times[0]):.1f} failovers/s between first and last")
        if detected_at:
            print(f"detected (pair no longer healthy): {spread(detected_at.values())}")
        rows = list(operations.values("created_at", "started_at", "finished_at"))
        for field in ("created_at", "started_at", "finished_at"):
            moments = [row[field].timestamp() - outage for row in rows if row[field]]
            if moments:
                print(f"operations {field.removesuffix('_at')}: {spread(moments)}")
        steps = OperationStep.objects.filter(operation__in=operations, finished_at__isnull=False)
        for name in ("confirm_outage", "fence_old_primary", "promote", "swing", "verify", "notify"):
            took = [(s.finished_at - s.started_at).total_seconds() for s in steps.filter(name=name)]
            if took:
                print(f"step {name}: {spread(took)}")
        runs = [(r["finished_at"] - r["started_at"]).total_seconds() for r in rows if r["finished_at"]]
        if runs:
            print(f"operation run (started -> finished): {spread(runs)}")
        print(f"operations: {succeeded} succeeded, {failed} failed or cancelled, {running} still running 120 s "
              f"after the last standby served; samples with two primaries "
              f"serving: {two_primaries} of {samples} samples")
    finally:
        silence.close()
        harness.tear_down(processes=processes, simulator=sim, database=ARGS.database)


def spread(values) -> str:
    values = sorted(values)
    return (f"min {values[0]:.2f} s, median {values[len(values) // 2]:.2f} s, p90 {values[int(len(values) * 0.9)]:.2f} s, "
            f"max {values[-1]:.2f} s (n={len(values)})")


if __name__ == "__main__":
    main()
