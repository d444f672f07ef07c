"""Adopting many existing pairs from one CSV file: the portal's real path against vendor-profile simulated pairs.

    .venv/bin/python bench/adopt_csv.py --pairs 200

Starts a simulator whose pairs all answer the vendor API only, loads its appliances into a scratch database
(created by the migrations, like the test suite), then times ``pairs_adopt_csv`` on a CSV naming every pair: each
appliance is read (check_health, get_appliances, the capability check) 16 at a time, every row checked, and all
pairs created in one transaction. Prints the wall time and pairs per second. A first run with one pair broken on
the appliances shows how long an all-or-nothing refusal takes (every appliance read, nothing created).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bench.portal_processes as harness  # noqa: E402 (after sys.path)

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--pairs", type=int, default=200)
parser.add_argument("--profile", type=int, default=0, metavar="N",
                    help="profile the adoption (cProfile) and print the N most expensive functions")
harness.add_scratch_arguments(parser, name="adopt", redis_db=4)
ARGS = parser.parse_args()
harness.scratch_django(database=ARGS.database, redis=ARGS.redis, name="adopt")

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

import failover.services.adoption as adoption  # noqa: E402
from appliances.drivers import tokens  # noqa: E402
from demo.fleet_loader import fleet_load  # noqa: E402
from failover.models import Pair  # noqa: E402
from failover.services.adoption import pairs_adopt_csv  # noqa: E402
from portal.models import Membership, Role, User  # noqa: E402
from portal.permissions import SYSTEM  # noqa: E402
from simulator.fleet import generate_fleet  # noqa: E402
from simulator.testing import SimulatorProcess  # noqa: E402

#: Seconds spent reading the appliances, per run (the rest is parsing the file, the checks and the writes).
PHASES: dict[str, float] = {}


@contextmanager
def timed_reads():
    """Time ``read_appliances`` inside ``pairs_adopt_csv`` (the only network phase)."""
    real = adoption.read_appliances

    def timed(appliances):
        started = time.perf_counter()
        try:
            return real(appliances)
        finally:
            PHASES["read"] = PHASES.get("read", 0.0) + time.perf_counter() - started

    adoption.read_appliances = timed
    try:
        yield
    finally:
        adoption.read_appliances = real


def fleet(pairs: int) -> dict:
    """Vendor-profile pairs whose shared IPs are 127.252.x: no other benchmark or test uses that range (the
    generated 127.250.x belong to the test suite, chaos.py and mass_failover.py)."""
    generated = generate_fleet(1, pairs, 0, settings={"sync_interval": 0}, simulator={"time_scale": 0.01},
                               vendor_pairs_per_org=pairs)
    for index, pair in enumerate(generated["organisations"][0]["pairs"]):
        pair["shared_ips"] = [f"127.252.{index // 250}.{index % 250 + 1}"]
    return generated


def csv_for(sim) -> bytes:
    rows = ["first,second,site_hostname"]
    for index, (primary, backup) in enumerate(sim.pairs()):
        rows.append(f"{primary['name']},{backup['name']},pair{index + 1:04d}.bench.test")
    return ("\n".join(rows) + "\n").encode()


def main() -> None:
    call_command("migrate", verbosity=0)
    sim = SimulatorProcess(fleet(ARGS.pairs)).start()
    try:
        loaded = fleet_load(actor=SYSTEM, fleet=sim.fleet_path, ca_pem=sim.ca_path.read_text(), port=sim.port)
        organization = loaded.organizations[0]
        admin = User.objects.create(username="bench-admin")
        Membership.objects.create(organization=organization, user=admin, role=Role.ADMIN)

        # One pair broken on the appliances (its backup left the relationship): found only by reading everything.
        broken = sim.pairs()[-1][1]["address"]
        sim.set_state(broken, role="none")
        started = time.perf_counter()
        with timed_reads():
            refused = pairs_adopt_csv(actor=admin, organization=organization, data=csv_for(sim))
        refusal_seconds, refusal_read = time.perf_counter() - started, PHASES.pop("read")
        assert not refused.ok and not Pair.objects.exists(), "a file with one bad row must adopt nothing"
        sim.set_state(broken, role="backup")

        # A worker adopting appliances holds no token for their full-access accounts yet (the probes use the
        # read-only ones): fetching one is part of the cost, so forget those the refusal run fetched.
        tokens.default_token_cache()._entries.clear()
        profiler = cProfile.Profile() if ARGS.profile else None
        started = time.perf_counter()
        with timed_reads():
            if profiler:
                profiler.enable()
            result = pairs_adopt_csv(actor=admin, organization=organization, data=csv_for(sim))
            if profiler:
                profiler.disable()
        seconds, read = time.perf_counter() - started, PHASES.pop("read")
        assert result.ok, result.errors[:5]
        print(f"pairs adopted: {len(result.created)} ({2 * ARGS.pairs} vendor-profile appliances read)")
        print(f"adoption: {seconds:.2f} s, {len(result.created) / seconds:.0f} pairs/s "
              f"(reading {read:.2f} s, checks and writes {seconds - read:.2f} s)")
        print(f"all-or-nothing refusal (1 bad row of {ARGS.pairs}): {refusal_seconds:.2f} s "
              f"(reading {refusal_read:.2f} s), {len(refused.errors)} error(s), nothing created")
        if profiler:
            stats = pstats.Stats(profiler)
            stats.sort_stats("cumulative").print_stats(ARGS.profile)
            stats.sort_stats("tottime").print_stats(ARGS.profile)
    finally:
        sim.stop()
        connection.close()
        harness.drop_database(ARGS.database)


if __name__ == "__main__":
    main()
