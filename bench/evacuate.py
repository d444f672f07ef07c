"""Evacuate a location of 500 pairs against the simulator: the portal's own plan/advance/operation path.

    .venv/bin/python bench/evacuate.py --pairs 500 --concurrency 10 50

Every pair's normal primary stands in PAR-1 and its backup in LYO-2; "Evacuate PAR-1" plans a sync-first
switchover of all of them and runs it through ``failover.services.evacuations`` (the beat task's
``evacuation_advance``) with the operation engine (``run_operation``) executed by a pool of threads as large as
the evacuation's concurrency, the way that many Celery workers would. It prints, per concurrency: the plan time,
the run time (start to every pair moved), pairs per second, and the most switchovers seen running at once.

The schema is created from the models in a scratch database (``--database``, dropped and recreated). The
members' probe status (reachable, role) is written directly instead of probing 1,000 appliances first (the
probe path has its own benchmark). The simulator's time scale (``--time-scale``) shortens its simulated
durations (the data sync before each swap, the both-backup gap), like the tests do.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bench.portal_processes as harness  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=500)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--time-scale", type=float, default=0.01)
    parser.add_argument("--poll", type=float, default=0.1, help="FAILOVER_POLL_INTERVAL while a swap settles")
    harness.add_scratch_arguments(parser, name="evacuate", redis_db=3)
    return parser.parse_args()


ARGS = parse_args()
# create_schema() below recreates the database with the tables made from the models.
harness.scratch_django(database=ARGS.database, redis=ARGS.redis, name="evacuate", reuse=True)

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from appliances.models import Appliance  # noqa: E402
from bench.scratch_db import bulk_load_fleet, create_schema  # noqa: E402
from failover.models import (  # noqa: E402
    EvacuationItemStatus,
    EvacuationStatus,
    OperationStep,
    Pair,
    PairState,
    StepStatus,
)
from failover.operations import run_operation  # noqa: E402
from failover.services.evacuations import evacuation_advance, evacuation_plan, evacuation_start  # noqa: E402
from portal.permissions import SYSTEM  # noqa: E402
from simulator.testing import SimulatorProcess  # noqa: E402

settings.FAILOVER_POLL_INTERVAL = ARGS.poll


def load(sim: SimulatorProcess):
    """The fleet, established and healthy, primaries placed in PAR-1 and backups in LYO-2 (as probed)."""
    primaries = {p["primary"] for org in sim.fleet["organisations"] for p in org["pairs"]}

    def placed(appliance, org):
        primary = appliance["name"] in primaries
        return {"location": "PAR-1" if primary else "LYO-2", "status_reachable": True,
                "status_role": "primary" if primary else "backup"}

    def shared_ip(pair):
        # Shared IP, as the fleet file declares it: the swing that ends each switchover verifies the address moved.
        # (With the scratch loader's default, DNS swing without an update key, every switchover ended at a guided
        # swing step waiting for a person, and the run never finished.)
        return {"established_at": timezone.now(), "state": PairState.HEALTHY, "network_method": "shared_ip",
                "shared_ip": pair["shared_ips"][0]}

    [organization] = bulk_load_fleet(sim, appliance_fields=placed, pair_fields=shared_ip)
    return organization


def waiting_for_a_person(evacuation) -> str:
    """A switchover stopped at a guided step: nobody will do it here, so the run would never end."""
    step = (OperationStep.objects.filter(operation__in=evacuation.items.values("operation_id"),
                                         status=StepStatus.WAITING).select_related("operation__pair").first())
    return f"{step.operation.pair}: step {step.name} waits for a person: {step.detail}" if step else ""


def run_one(operation_id: int) -> str:
    try:
        return run_operation(operation_id)
    finally:
        connection.close()


def evacuate(organization, concurrency: int) -> dict:
    started = time.monotonic()
    evacuation = evacuation_plan(actor=SYSTEM, organization=organization, location="PAR-1", concurrency=concurrency,
                                 stop_after_failures=50)
    planned = time.monotonic() - started
    evacuation_start(actor=SYSTEM, evacuation=evacuation)
    begun, peak, submitted = time.monotonic(), 0, set()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        futures = []
        while True:
            evacuation_advance(evacuation_id=evacuation.pk)
            evacuation.refresh_from_db()
            running = list(evacuation.items.filter(status=EvacuationItemStatus.RUNNING)
                           .values_list("operation_id", flat=True))
            peak = max(peak, len(running))
            for operation_id in running:
                if operation_id not in submitted:
                    submitted.add(operation_id)
                    futures.append(pool.submit(run_one, operation_id))
            if evacuation.status != EvacuationStatus.RUNNING:
                break
            waiting = waiting_for_a_person(evacuation)
            if waiting:
                raise SystemExit(f"The benchmark cannot finish: {waiting}")
            time.sleep(0.05)
        for future in futures:
            future.result()
    seconds = time.monotonic() - begun
    moved = evacuation.items.filter(status=EvacuationItemStatus.DONE).count()
    return {"planned_s": planned, "run_s": seconds, "moved": moved, "items": evacuation.items.count(),
            "blocked": len(evacuation.blocked), "peak": peak, "status": evacuation.status}


def flip_back(sim: SimulatorProcess, organization) -> None:
    """Between runs: the simulator back to its fleet file's roles, the probe status to match."""
    sim.reset()
    members = Appliance.objects.filter(organization=organization)
    members.filter(location="PAR-1").update(status_role="primary")  # where load() placed the primaries
    members.exclude(location="PAR-1").update(status_role="backup")
    Pair.objects.update(epoch=0)


def main() -> int:
    create_schema()
    fleet = {"organisations": 1, "pairs_per_org": ARGS.pairs, "singles": 0, "time_scale": ARGS.time_scale,
             "settings": {"sync_interval": 0}, "simulator": {"swap_gap": 20}}
    try:
        run(fleet)
    finally:
        connection.close()
        harness.drop_database(ARGS.database)
    return 0


def run(fleet: dict) -> None:
    with SimulatorProcess(**fleet) as sim:
        organization = load(sim)
        print(f"{ARGS.pairs} pairs, time scale {ARGS.time_scale}, poll {ARGS.poll}s")
        print(f"{'concurrency':>11} {'plan s':>7} {'run s':>7} {'pairs/s':>8} {'peak':>5} {'moved':>6} {'status':>8}")
        for concurrency in ARGS.concurrency:
            flip_back(sim, organization)
            result = evacuate(organization, concurrency)
            print(f"{concurrency:>11} {result['planned_s']:>7.2f} {result['run_s']:>7.1f} "
                  f"{result['moved'] / result['run_s']:>8.1f} {result['peak']:>5} "
                  f"{result['moved']:>4}/{result['items']:<4} {result['status']:>8}")


if __name__ == "__main__":
    sys.exit(main())
