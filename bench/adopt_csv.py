"""Adopting many existing pairs from one CSV file: the portal's real path against vendor-profile simulated pairs.

    .venv/bin/python bench/adopt_csv.py --pairs 200
    .venv/bin/python bench/adopt_csv.py --pairs 5000 --skip-refusal

Starts a simulator whose pairs all answer the vendor API only (shared IPs on 127.252.x, used by nothing else),
loads its appliances into a scratch database (created by the migrations, like the test suite) and contacts each
appliance once (the simulator makes its certificate then). Then times ``pairs_adopt_csv`` on a CSV naming every
pair, as a worker that never talked to these appliances (no token, no TLS session): each appliance read (token,
check_health, get_appliances, the capability check) on one multi handle, every row checked, and all pairs created
in one transaction. Prints the wall time, pairs per second, the reading phase and the CPU it cost this process and
the simulator. Unless ``--skip-refusal``, a first run with one pair broken on the appliances shows how long an
all-or-nothing refusal takes (every appliance read, nothing created). ``--profile N``: cProfile of the timed run.
"""

from __future__ import annotations

import argparse
import cProfile
import os
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
parser.add_argument("--skip-refusal", action="store_true",
                    help="skip the all-or-nothing refusal run (it reads every appliance once more)")
parser.add_argument("--profile", type=int, default=0, metavar="N",
                    help="profile the adoption (cProfile) and print the N most expensive functions")
harness.add_scratch_arguments(parser, name="adopt", redis_db=4)
ARGS = parser.parse_args()
harness.scratch_django(database=ARGS.database, redis=ARGS.redis, name="adopt")

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

import failover.services.adoption as adoption  # noqa: E402
from appliances.connect import ClientPurpose, appliance_client  # noqa: E402
from appliances.drivers import perform_many, tlscache, tokens  # noqa: E402
from appliances.models import Appliance  # noqa: E402
from demo.fleet_loader import fleet_load  # noqa: E402
from failover.models import Pair  # noqa: E402
from failover.services.adoption import pairs_adopt_csv  # noqa: E402
from portal.models import Membership, Role, User  # noqa: E402
from portal.permissions import SYSTEM  # noqa: E402
from simulator.fleet import generate_fleet  # noqa: E402
from simulator.testing import SimulatorProcess  # noqa: E402

#: Of the last run: seconds reading the appliances (the rest is parsing the file, the checks and the writes), and
#: the CPU seconds this process and the simulator spent on it.
PHASES: dict[str, float] = {}


def cpu_seconds(pid: int | None = None) -> float:
    if pid is None:
        times = os.times()
        return times.user + times.system
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def timed_reads(sim):
    """Time ``read_appliances`` inside ``pairs_adopt_csv`` (the only network phase), with the CPU it costs."""
    real = adoption.read_appliances

    def timed(appliances):
        started, ours, theirs = time.perf_counter(), cpu_seconds(), cpu_seconds(sim._process.pid)
        try:
            return real(appliances)
        finally:
            PHASES.update(read=time.perf_counter() - started, read_cpu=cpu_seconds() - ours,
                          simulator_cpu=cpu_seconds(sim._process.pid) - theirs)

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


def plain_check_health(calls):
    return (yield from calls.plain_check_health())


def first_contact(organization) -> None:
    """One unauthenticated /check_health per appliance: the simulator makes each appliance's certificate at its
    first contact, which a real appliance has long had; not a cost of adopting."""
    appliances = list(Appliance.objects.filter(organization=organization))
    for appliance in appliances:
        appliance.organization = organization
    clients = [appliance_client(appliance, purpose=ClientPurpose.INTERACTIVE) for appliance in appliances]
    results = perform_many([(client, plain_check_health(client.operations)) for client in clients], concurrency=64)
    assert all(result.ok for result in results), [r.error for r in results if not r.ok][:3]


def cold_client() -> None:
    """As a worker process that never talked to these appliances: no OAuth token and no TLS session to resume."""
    tokens.default_token_cache()._entries.clear()
    tlscache._shares = tlscache._SessionShares()


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

        first_contact(organization)
        if not ARGS.skip_refusal:
            # One pair broken on the appliances (its backup left the relationship): found only by reading everything.
            broken = sim.pairs()[-1][1]["address"]
            sim.set_state(broken, role="none")
            cold_client()
            started = time.perf_counter()
            with timed_reads(sim):
                refused = pairs_adopt_csv(actor=admin, organization=organization, data=csv_for(sim))
            refusal_seconds, refusal_read = time.perf_counter() - started, PHASES["read"]
            assert not refused.ok and not Pair.objects.exists(), "a file with one bad row must adopt nothing"
            sim.set_state(broken, role="backup")

        cold_client()
        profiler = cProfile.Profile() if ARGS.profile else None
        started = time.perf_counter()
        with timed_reads(sim):
            if profiler:
                profiler.enable()
            result = pairs_adopt_csv(actor=admin, organization=organization, data=csv_for(sim))
            if profiler:
                profiler.disable()
        seconds, read = time.perf_counter() - started, PHASES["read"]
        assert result.ok, result.errors[:5]
        appliances = 2 * ARGS.pairs
        print(f"pairs adopted: {len(result.created)} ({appliances} vendor-profile appliances read)")
        print(f"adoption: {seconds:.2f} s, {len(result.created) / seconds:.0f} pairs/s "
              f"(reading {read:.2f} s, checks and writes {seconds - read:.2f} s)")
        print(f"reading, CPU per appliance: portal {1000 * PHASES['read_cpu'] / appliances:.2f} ms, simulator "
              f"{1000 * PHASES['simulator_cpu'] / appliances:.2f} ms (4 TLS connections each: token, check_health, "
              "get_appliances, x_get_capabilities)")
        if not ARGS.skip_refusal:
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
