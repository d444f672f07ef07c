"""Measure the batch engine (appliances.drivers.probe_many) against a real simulator process.

    .venv/bin/python bench/probe_clients.py --appliances 200 --rounds 3 --concurrency 16 64
    .venv/bin/python bench/probe_clients.py --appliances 2000 --rounds 4 --concurrency 128 --cpu

Prints requests/second per configuration. Round 1 of each configuration includes the OAuth token fetch
(2 requests per appliance); later rounds reuse cached tokens (1 request per appliance). Each request is
a new TLS connection (the vendor asks for Connection: close), so this mostly measures handshakes; the
"resume" column shows the effect of sharing TLS sessions (the first round of a configuration can only
resume sessions an earlier configuration left). ``--cpu`` pins this process to CPU 0 and the simulator to
CPU 1 and adds the CPU time per request of each, which stays meaningful when other work shares the
machine; without it client and simulator share the cores, so rates are a lower bound.
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from appliances.drivers import (  # noqa: E402 - after the sys.path tweak for running as a script
    ApplianceAddress,
    Credentials,
    InMemoryTokenCache,
    ProbeTarget,
    Timeouts,
    TrustSettings,
    probe_many,
)
from simulator.testing import SimulatorProcess  # noqa: E402

CLIENT_CPU, SIMULATOR_CPU = 0, 1


def self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def process_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--appliances", type=int, default=200, help="approximate fleet size")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--cpu", action="store_true", help="pin both sides and report CPU per request")
    args = parser.parse_args()
    if args.cpu:
        os.sched_setaffinity(0, {CLIENT_CPU})

    pairs = max(1, math.ceil(args.appliances / 2))
    with SimulatorProcess(organisations=1, pairs_per_org=pairs, singles=0, time_scale=1.0) as sim:
        sim_pid = sim._process.pid
        if args.cpu:
            for task in os.listdir(f"/proc/{sim_pid}/task"):  # affinity is per thread
                os.sched_setaffinity(int(task), {SIMULATOR_CPU})
        ca_pem = sim.ca_path.read_text()
        targets = [
            ProbeTarget(ApplianceAddress(a["address"], sim.port), Credentials(a["client_id"], a["client_secret"]),
                        TrustSettings(ca_pem=ca_pem), Timeouts(connect=5, total=15), ref=a["name"])
            for a in sim.appliances()
        ]
        print(f"{len(targets)} appliances, simulator child process on port {sim.port}")
        cpu_columns = f" {'client µs/req':>13} {'simulator µs/req':>16}" if args.cpu else ""
        print(f"{'concurrency':>11} {'resume':>6} {'round':>5} {'requests':>8} {'seconds':>8} {'req/s':>8} {'errors':>6}"
              + cpu_columns)
        for concurrency in args.concurrency:
            for resume in (True, False):
                cache = InMemoryTokenCache()
                for round_no in range(1, args.rounds + 1):
                    started, client, server = time.perf_counter(), self_cpu(), process_cpu(sim_pid)
                    results = probe_many(targets, concurrency=concurrency, timeout=30, token_cache=cache,
                                         share_tls_sessions=resume)
                    seconds = time.perf_counter() - started
                    client, server = self_cpu() - client, process_cpu(sim_pid) - server
                    requests = len(targets) * (2 if round_no == 1 else 1)
                    errors = sum(1 for r in results if not r.ok)
                    cpu = f" {client / requests * 1e6:>13.0f} {server / requests * 1e6:>16.0f}" if args.cpu else ""
                    print(f"{concurrency:>11} {'yes' if resume else 'no':>6} {round_no:>5} {requests:>8} "
                          f"{seconds:>8.2f} {requests / seconds:>8.0f} {errors:>6}" + cpu)
                    if errors:
                        print("   first error:", next(r.error for r in results if not r.ok))
    return 0


if __name__ == "__main__":
    sys.exit(main())
