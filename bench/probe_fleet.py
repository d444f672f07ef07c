"""Fleet probe benchmark: the portal's real probe path against a 10,000-appliance simulator, beside its ceilings.

    .venv/bin/python bench/probe_fleet.py --appliances 10000

In one run it prints:
  * direct path: full sweeps through ``failover.services.probes`` (claim, probe_many on pycurl multi, parse,
    anti-flap, bulk writes to PostgreSQL, pair states): probes/s, sweep time, CPU microseconds per probe,
    rows written per sweep;
  * Celery path: the same sweep through ``failover.probe_dispatch`` -> ``failover.probe_batch`` on a real
    worker (queue ``probes``), against the direct path;
  * ceiling: ``wrk`` against the same simulator with ``Connection: close`` (same health call, same token);
  * ``prometheus-blackbox-exporter`` (our own instance on 127.0.0.1) probing the same appliances: CPU per probe;
  * peak memory (VmHWM) of the simulator and of the probe worker.

The simulator is pinned to CPU 1 and every client (this process, the worker, wrk, blackbox_exporter) to CPU 0,
so client and server never compete for one core. PostgreSQL is not pinned. The schema is created from the
models in a scratch database (``--database``, dropped and recreated), like the test suite does.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CLIENT_CPU, SIMULATOR_CPU = 0, 1


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--appliances", type=int, default=10_000)
    parser.add_argument("--sweeps", type=int, default=3, help="measured direct sweeps (after one warm-up)")
    parser.add_argument("--concurrency", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--parallel", type=int, default=1,
                        help="batches in flight at once: threads on the direct path, prefork processes in the worker;"
                        " 2 lets one batch's database writes overlap the next one's probes")
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/portal_bench")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--wrk-seconds", type=int, default=10)
    parser.add_argument("--blackbox-probes", type=int, default=3000)
    parser.add_argument("--skip", nargs="*", default=[], choices=["celery", "wrk", "blackbox"])
    return parser.parse_args()


ARGS = parse_args()
os.environ["DATABASE_URL"] = ARGS.database
os.environ["CELERY_BROKER_URL"] = ARGS.broker
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings_test")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Max, Q  # noqa: E402
from django.utils import timezone  # noqa: E402

from appliances.models import Appliance, ApplianceProbeStatus  # noqa: E402
from bench.scratch_db import bulk_load_fleet, create_schema  # noqa: E402
from failover.models import PairStateChange, StatusChange  # noqa: E402
from failover.probing import SweepReport  # noqa: E402
from failover.services.probes import probe_batch_run, probe_batches_claim  # noqa: E402
from simulator.testing import SimulatorProcess  # noqa: E402

# -- helpers -------------------------------------------------------------------------------------------------


def pin(pid: int, cpu: int) -> None:
    """Pin a process and all its threads (affinity is per thread on Linux)."""
    for task in os.listdir(f"/proc/{pid}/task"):
        os.sched_setaffinity(int(task), {cpu})


def peak_rss_mib(pid: int) -> float:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", text).group(1)) / 1024


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [pid, *[p for child in children for p in process_tree(int(child))]]


def tree_cpu_seconds(pid: int) -> float:
    return sum(cpu_seconds(p) for p in process_tree(pid))


def self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


#: Tables the probe path writes: their row updates, and how many of them were HOT (no index entry rewritten).
WRITTEN_TABLES = ("appliances_appliance", "appliances_applianceprobestatus", "failover_pair")


def table_updates() -> dict[str, tuple[int, int]]:
    """table -> (n_tup_upd, n_tup_hot_upd) from pg_stat_user_tables (after the other backends flushed theirs)."""
    time.sleep(1.2)  # backends report their counters about once a second once idle (PostgreSQL 15)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT relname, n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = ANY(%s)",
                       [list(WRITTEN_TABLES)])
        return {name: (updated, hot) for name, updated, hot in cursor.fetchall()}


#: table -> [updates, HOT updates] summed over the measured sweeps (``direct_sweep(count_updates=True)``).
SWEEP_UPDATES: dict[str, list[int]] = {}


def print_updates(sweeps: int) -> None:
    for name in WRITTEN_TABLES:
        if name in SWEEP_UPDATES:
            updated, hot = SWEEP_UPDATES[name]
            print(f"  {name:<34} {updated / sweeps:8.0f} row updates per sweep, {hot / sweeps:8.0f} HOT"
                  f" ({hot / max(updated, 1):.0%})")


def make_all_due() -> None:
    ApplianceProbeStatus.objects.update(next_probe_at=None)


def _run_batch(ids: list[int], concurrency: int) -> SweepReport:
    try:
        return probe_batch_run(appliance_ids=ids, concurrency=concurrency)
    finally:
        connection.close()  # each thread has its own connection


def direct_sweep(concurrency: int, batch_size: int, parallel: int,
                 count_updates: bool = False) -> tuple[SweepReport, float, float]:
    """One full sweep through the services the tasks call, in this process: (report, seconds, cpu seconds).
    ``parallel`` threads stand for as many probe worker processes (pinned to the same core either way).
    ``count_updates``: add the sweep's row updates per table to ``SWEEP_UPDATES`` (not make_all_due's own)."""
    make_all_due()
    updates = table_updates() if count_updates else {}
    rows_before = StatusChange.objects.count() + PairStateChange.objects.count()
    cpu, started = self_cpu(), time.perf_counter()
    report = SweepReport()
    batches = probe_batches_claim(now=timezone.now(), batch_size=batch_size)
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        for batch_report in pool.map(lambda ids: _run_batch(ids, concurrency), batches):
            report.merge(batch_report)
    seconds, cpu = time.perf_counter() - started, self_cpu() - cpu
    history = StatusChange.objects.count() + PairStateChange.objects.count() - rows_before
    assert history == report.status_changes + report.pair_state_changes
    if count_updates:
        for name, (updated, hot) in table_updates().items():
            total = SWEEP_UPDATES.setdefault(name, [0, 0])
            total[0] += updated - updates.get(name, (0, 0))[0]
            total[1] += hot - updates.get(name, (0, 0))[1]
    return report, seconds, cpu


def print_sweep(label: str, report: SweepReport, seconds: float, cpu: float) -> None:
    print(f"  {label:<10} {report.probed:>6} probes in {seconds:6.2f} s = {report.probed / seconds:7.0f} probes/s;"
          f" {cpu / max(report.probed, 1) * 1e6:6.0f} µs CPU/probe (probe {report.probe_seconds:.2f} s,"
          f" write {report.write_seconds:.2f} s); failed {report.failed};"
          f" rows: {report.probed} probe-status + {report.appliances_written} appliances + {report.pairs_written}"
          f" pairs + {report.status_changes} status history + {report.pair_state_changes} pair history")


# -- Celery ----------------------------------------------------------------------------------------------------


def celery_sweep(total: int, parallel: int) -> tuple[float, float, float, float]:
    """(warm-up seconds, measured seconds, worker CPU seconds, worker peak MiB) through a real worker."""
    from failover.tasks import probe_dispatch
    from portal.celery import app

    app.control.purge()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    log = open(Path(tempfile.gettempdir()) / "probe_bench_worker.log", "wb")  # noqa: SIM115
    # Prefork with ``parallel`` children, all pinned to the client core by taskset (children inherit it); the
    # concurrency that matters is inside each batch (pycurl multi), two children only overlap writes and probes.
    pool = ["-P", "solo"] if parallel == 1 else ["-P", "prefork", "-c", str(parallel)]
    worker = subprocess.Popen(  # noqa: S603 - fixed argv
        ["taskset", "-c", str(CLIENT_CPU), sys.executable, "-m", "celery", "-A", "portal", "worker", "-Q", "probes",
         *pool, "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "warning"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while b"ready" not in Path(log.name).read_bytes() and time.monotonic() < deadline:
            time.sleep(0.2)
            if worker.poll() is not None:
                raise RuntimeError(f"worker died: {Path(log.name).read_text()[-2000:]}")
        results = []
        for _ in range(2):  # the first sweep fills the worker's own token cache
            make_all_due()
            mark = timezone.now()
            cpu = tree_cpu_seconds(worker.pid)
            probe_dispatch()  # what beat fires: claims every due appliance and enqueues the batches
            # Poll gently (this process shares the worker's core); the sweep ends at the last write, not the poll.
            while ApplianceProbeStatus.objects.filter(Q(status_checked_at__isnull=True)
                                                      | Q(status_checked_at__lt=mark)).exists():
                time.sleep(0.5)
            finished = ApplianceProbeStatus.objects.aggregate(last=Max("status_checked_at"))["last"]
            results.append(((finished - mark).total_seconds(), tree_cpu_seconds(worker.pid) - cpu))
        return results[0][0], results[1][0], results[1][1], max(peak_rss_mib(p) for p in process_tree(worker.pid))
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            worker.kill()
        log.close()


# -- ceilings --------------------------------------------------------------------------------------------------


def wrk_ceiling(sim: SimulatorProcess, seconds: int, connections: int) -> float:
    """Requests/s wrk gets from the simulator for the same authenticated health call, closing every connection."""
    from appliances.drivers import (
        ApplianceAddress,
        ApplianceClient,
        Credentials,
        InMemoryTokenCache,
        TrustSettings,
    )
    from appliances.drivers.tokens import token_cache_key

    target = sim.appliances()[0]
    address, cache = ApplianceAddress(target["address"], sim.port), InMemoryTokenCache()
    client = ApplianceClient(address, Credentials(target["client_id"], target["client_secret"]),
                             TrustSettings(ca_pem=sim.ca_path.read_text()), token_cache=cache)
    client.check_health()
    token = cache.get(token_cache_key(address, target["client_id"]))  # the bearer the probe itself uses
    out = subprocess.run(  # noqa: S603
        ["taskset", "-c", str(CLIENT_CPU), "wrk", "-t1", f"-c{connections}", f"-d{seconds}s",
         "-H", "Connection: close", "-H", f"Authorization: Bearer {token}",
         f"https://{target['address']}:{sim.port}/api/command?action=check_health"],
        capture_output=True, text=True, check=True,
    ).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        print(f"  wrk: {errors.group(1)} non-2xx answers")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def blackbox(sim: SimulatorProcess, probes: int, concurrency: int) -> tuple[float, float, int]:
    """(probes/s, CPU µs per probe of the exporter, failures) for blackbox_exporter probing the appliances'
    health endpoint over HTTPS with Connection: close, driven by concurrent /probe requests."""
    import pycurl

    from simulator.testing import free_port

    workdir = Path(tempfile.mkdtemp(prefix="blackbox-"))
    config = workdir / "blackbox.yml"
    config.write_text(
        "modules:\n  https_health:\n    prober: http\n    timeout: 10s\n    http:\n"
        "      method: GET\n      headers:\n        Connection: close\n"
        f"      tls_config:\n        ca_file: {sim.ca_path}\n"
        "      valid_status_codes: [200]\n      preferred_ip_protocol: ip4\n"
    )
    port = free_port()
    exporter = subprocess.Popen(  # noqa: S603
        ["taskset", "-c", str(CLIENT_CPU), "prometheus-blackbox-exporter", f"--config.file={config}",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(1.0)
        targets = [a["address"] for a in sim.appliances()][:probes]
        urls = [f"http://127.0.0.1:{port}/probe?module=https_health&target=https://{t}:{sim.port}/check_health"
                for t in targets]
        cpu, started = cpu_seconds(exporter.pid), time.perf_counter()
        bodies = _fetch_all(pycurl, urls, concurrency)
        seconds, cpu = time.perf_counter() - started, cpu_seconds(exporter.pid) - cpu
        failures = sum(1 for b in bodies if "probe_success 1" not in b)
        return len(urls) / seconds, cpu / len(urls) * 1e6, failures
    finally:
        exporter.terminate()
        exporter.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


def _fetch_all(pycurl, urls: list[str], concurrency: int) -> list[str]:
    from io import BytesIO

    multi, pending, active, bodies = pycurl.CurlMulti(), list(enumerate(urls)), {}, [""] * len(urls)
    while pending or active:
        while pending and len(active) < concurrency:
            index, url = pending.pop()
            curl, buffer = pycurl.Curl(), BytesIO()
            curl.setopt(pycurl.URL, url)
            curl.setopt(pycurl.WRITEDATA, buffer)
            curl.setopt(pycurl.TIMEOUT, 30)
            multi.add_handle(curl)
            active[curl] = (index, buffer)
        while multi.perform()[0] == pycurl.E_CALL_MULTI_PERFORM:
            pass
        _, ok, failed = multi.info_read()
        for curl in ok + [f[0] for f in failed]:
            index, buffer = active.pop(curl)
            bodies[index] = buffer.getvalue().decode(errors="replace")
            multi.remove_handle(curl)
            curl.close()
        multi.select(0.1)
    return bodies


# -- main ------------------------------------------------------------------------------------------------------


def main() -> int:
    os.sched_setaffinity(0, {CLIENT_CPU})
    pairs = ARGS.appliances // 2
    print(f"Fleet probe benchmark: {pairs * 2} appliances ({pairs} pairs), simulator on CPU {SIMULATOR_CPU}, "
          f"clients on CPU {CLIENT_CPU}; concurrency {ARGS.concurrency} per batch, batches of {ARGS.batch_size},"
          f" {ARGS.parallel} batch(es) in flight")
    create_schema()
    with SimulatorProcess(organisations=1, pairs_per_org=pairs, singles=0, time_scale=1.0,
                          settings={"sync_interval": 0}) as sim:
        pin(sim._process.pid, SIMULATOR_CPU)
        # Bulk inserted (the fleet loader audits each row, which is right for people and slow for 10,000).
        bulk_load_fleet(sim, appliance_fields=lambda appliance, organization: {"probe_interval": 60,
                                                                               "probe_timeout": 10})
        total = Appliance.objects.count()

        print("direct path (claim + failover.services.probes.probe_batch_run, as the probe_batch task):")
        report, seconds, cpu = direct_sweep(ARGS.concurrency, ARGS.batch_size, ARGS.parallel)
        print_sweep("warm-up", report, seconds, cpu)
        print("    (the warm-up fetches an OAuth token per appliance: two requests per probe)")
        best = None
        for number in range(1, ARGS.sweeps + 1):
            report, seconds, cpu = direct_sweep(ARGS.concurrency, ARGS.batch_size, ARGS.parallel,
                                                count_updates=True)
            print_sweep(f"sweep {number}", report, seconds, cpu)
            if best is None or seconds < best[1]:
                best = (report, seconds, cpu)
        print(f"  table writes per sweep (pg_stat_user_tables, the {ARGS.sweeps} measured sweeps):")
        print_updates(ARGS.sweeps)
        report, direct_seconds, direct_cpu = best
        direct_rate = report.probed / direct_seconds
        direct_cpu_us = direct_cpu / report.probed * 1e6

        celery = None
        if "celery" not in ARGS.skip:
            warm, seconds, worker_cpu, worker_mib = celery_sweep(total, ARGS.parallel)
            celery = total / seconds
            print(f"Celery path (probe_dispatch -> {-(-total // ARGS.batch_size)} probe_batch tasks, one worker,"
                  f" {ARGS.parallel} process(es)):"
                  f"\n  warm-up {warm:.2f} s; sweep {seconds:.2f} s = {celery:.0f} probes/s;"
                  f" worker {worker_cpu / total * 1e6:.0f} µs CPU/probe; peak RSS per worker process {worker_mib:.0f} MiB")

        ceiling = None
        if "wrk" not in ARGS.skip:
            ceiling = wrk_ceiling(sim, ARGS.wrk_seconds, ARGS.concurrency)
            print(f"ceiling: wrk -t1 -c{ARGS.concurrency} Connection: close, same health call: {ceiling:.0f} req/s")

        bb = None
        if "blackbox" not in ARGS.skip:
            bb = blackbox(sim, min(ARGS.blackbox_probes, total), ARGS.concurrency)
            print(f"blackbox_exporter (https GET /check_health, Connection: close): {bb[0]:.0f} probes/s,"
                  f" {bb[1]:.0f} µs CPU/probe, {bb[2]} failed")

        simulator_mib = peak_rss_mib(sim._process.pid)

    print("\nsummary")
    print(f"  probes/s (direct):            {direct_rate:8.0f}")
    print(f"  full sweep of {total}:       {direct_seconds:8.2f} s   (aim <= 7 s, issue 16)")
    if ceiling:
        print(f"  ceiling (wrk):                {ceiling:8.0f} req/s; product/ceiling {direct_rate / ceiling:.2f}"
              " (aim >= 0.8, issue 16)")
    print(f"  CPU per probe (portal):       {direct_cpu_us:8.0f} µs (parse, state, DB writes included)")
    if bb:
        print(f"  CPU per probe (blackbox):     {bb[1]:8.0f} µs (HTTP probe only)")
    if celery:
        print(f"  Celery / direct:              {celery / direct_rate:8.2f} (aim >= 0.9)")
    print(f"  rows written per sweep:       {report.rows_written:8d} ({report.probed} probe-status updates,"
          f" {report.appliances_written} appliance updates,"
          f" {report.pairs_written} pair updates, {report.status_changes + report.pair_state_changes} history rows)")
    print(f"  simulator peak RSS:           {simulator_mib:8.0f} MiB (aim < 1024)")
    print(f"  bench process peak RSS:       {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:8.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
