"""Startup time, RSS and request latency of the simulator for N appliances (not a test).

    .venv/bin/python bench/simulator_capacity.py --appliances 10000 --requests 300

Starts the real ``python -m simulator serve`` process, times until ready.json appears, reads
VmRSS/VmHWM from /proc, then times fresh-connection TLS requests (full handshakes, then resumed
sessions) spread over random appliances, and reports RSS again.
"""

import argparse
import random
import socket
import ssl
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from simulator.fleet import generate_fleet  # noqa: E402
from simulator.testing import ApplianceClient, SimulatorProcess  # noqa: E402


def memory(pid):
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return {k: int(fields[k].split()[0]) // 1024 for k in ("VmRSS", "VmHWM")}


def timed_get(address, port, context, server_name, session=None):
    started = time.perf_counter()
    with socket.create_connection((address, port), timeout=10) as raw:
        # Like curl: without TCP_NODELAY the request waits ~40 ms behind the client's Finished.
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        tls = context.wrap_socket(raw, server_hostname=server_name, session=session)
        tls.sendall(b"GET /check_health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        while tls.recv(65536):
            pass
        result = time.perf_counter() - started, tls.session, tls.session_reused
        tls.close()
        return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--appliances", type=int, default=10000)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    per_org = 100  # 45 pairs + 10 singles per organisation
    orgs = max(1, args.appliances // per_org)
    fleet = generate_fleet(orgs, 45 if args.appliances >= per_org else args.appliances // 2,
                           10 if args.appliances >= per_org else args.appliances % 2,
                           settings={"sync_interval": 3600})
    count = sum(len(o["appliances"]) for o in fleet["organisations"])
    sim = SimulatorProcess(fleet)
    started = time.monotonic()
    sim.start()
    ready = time.monotonic() - started
    pid = sim._process.pid
    print(f"appliances={count} startup_to_ready={ready:.2f}s (in-process setup "
          f"{sim.control('GET', '/health')['startup_seconds']:.2f}s) memory_after_start={memory(pid)} MiB")
    try:
        context = ssl.create_default_context(cafile=str(sim.ca_path))
        specs = random.Random(1).sample(sim.appliances(), min(args.requests, count))
        first = [timed_get(s["address"], sim.port, context, s["hostname"]) for s in specs]
        warm = [timed_get(s["address"], sim.port, context, s["hostname"]) for s in specs]
        resumed = [timed_get(s["address"], sim.port, context, s["hostname"], session=w[1])
                   for s, w in zip(specs, warm, strict=True)]

        def ms(rows):
            values = sorted(r[0] * 1000 for r in rows)
            return f"median {statistics.median(values):.2f} ms, p95 {values[int(len(values) * 0.95) - 1]:.2f} ms"

        print(f"first contact (cert issued lazily + full handshake): {ms(first)}")
        print(f"full handshake, warm appliance: {ms(warm)}")
        print(f"resumed session: {ms(resumed)} (reused {sum(r[2] for r in resumed)}/{len(resumed)})")
        api = ApplianceClient(sim, specs[0]["name"])
        t0 = time.perf_counter()
        api.command("check_health")
        print(f"token + check_health over two fresh TLS connections: {(time.perf_counter() - t0) * 1000:.1f} ms")
        print(f"memory_after_requests={memory(pid)} MiB")
    finally:
        sim.stop()


if __name__ == "__main__":
    main()
