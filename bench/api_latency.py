"""List latency at fleet scale: the portal under gunicorn (2 workers) with 10,000 appliances / 5,000 pairs.

    .venv/bin/python bench/api_latency.py --appliances 10000 --requests 200

In one run it:
  * builds a scratch database (``--database``, dropped and recreated, tables by the real migrations);
  * loads a generated fleet with ``demo.fleet_loader.fleet_load`` (what ``manage.py load_fleet`` runs) and prints
    how long 10,000 appliances and 5,000 pairs took;
  * gives every appliance a probe status, makes a platform operator and an organisation admin (API token and a
    signed-in session each);
  * starts ``gunicorn portal.wsgi -w 2`` on a free loopback port and sends ``--requests`` requests per endpoint
    from ``--connections`` keep-alive connections (one thread each): REST lists of 100 at the first and the last
    offset, search, sorts, the pair list, alerts, the dashboard, the pair list page and the advice page;
  * prints p50 / p95 / max per endpoint, stops gunicorn and drops the database (unless ``--keep``).

``--reuse`` skips the database build and the load when ``--database`` already holds a fleet (``--keep`` before).
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import portal_processes as harness  # noqa: E402 (after sys.path)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--appliances", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200, help="measured requests per endpoint")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    harness.add_scratch_arguments(parser, name="api", redis_db=12)
    parser.add_argument("--keep", action="store_true", help="leave the database for a later --reuse")
    parser.add_argument("--reuse", action="store_true", help="use the fleet already in --database")
    parser.add_argument("--only", nargs="*", default=[], help="endpoint names to measure (default: all)")
    return parser.parse_args()


ARGS = parse_args()

ENV = harness.scratch_django(database=ARGS.database, redis=ARGS.redis, name="api", reuse=ARGS.reuse)

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from appliances.models import Appliance  # noqa: E402
from demo.fleet_loader import fleet_load  # noqa: E402
from failover.models import Pair  # noqa: E402
from failover.services.advice import advice_sweep  # noqa: E402
from portal.api.pagination import encode_cursor  # noqa: E402
from portal.models import Membership, Organization, Role, User  # noqa: E402
from portal.permissions import SYSTEM  # noqa: E402
from portal.services.tokens import api_token_create  # noqa: E402
from simulator.fleet import generate_fleet  # noqa: E402
from simulator.pki import CertificateAuthority  # noqa: E402
from simulator.testing import free_port  # noqa: E402


def migrate() -> None:
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"migrate: {time.perf_counter() - started:.1f} s")


def build_fleet() -> None:
    fleet = generate_fleet(organisations=2, pairs_per_org=ARGS.appliances // 4, singles=0, seed="bench-api")
    ca_pem = CertificateAuthority.create("bench CA").cert_pem
    started = time.perf_counter()
    result = fleet_load(actor=SYSTEM, fleet=fleet, ca_pem=ca_pem, port=8443, pairs=True)
    elapsed = time.perf_counter() - started
    print(f"fleet_load: {result.created:,} appliances and {len(result.pairs):,} pairs in {elapsed:.1f} s "
          f"({result.created / elapsed:,.0f} appliances/s)")


def steady_state() -> None:
    """What a steady probe loop leaves on the rows: every appliance checked, reachable, in its role; every pair
    healthy since a while (not "never checked": the dashboard ranks the pairs by urgency). Idempotent, so a
    ``--reuse`` run of a database loaded by an older bench gets it too."""
    with connection.cursor() as cursor:
        cursor.execute("""
            UPDATE appliances_appliance a SET status_reachable = true, status_healthy = true,
                status_role = CASE WHEN EXISTS (SELECT 1 FROM failover_pair p WHERE p.primary_id = a.id)
                                   THEN 'primary' ELSE 'backup' END,
                status_version = a.product_version""")
        # The per-probe columns live in each appliance's narrow probe-status row (created if loaded in bulk).
        cursor.execute("""
            INSERT INTO appliances_applianceprobestatus (appliance_id, status_checked_at, status_latency_ms,
                status_error, status_failures, status_successes)
            SELECT a.id, now() - (a.id % 7) * interval '1 second', 3.5 + a.id % 11, '', 0, 2
            FROM appliances_appliance a
            ON CONFLICT (appliance_id) DO UPDATE SET status_checked_at = EXCLUDED.status_checked_at,
                status_latency_ms = EXCLUDED.status_latency_ms, status_successes = 2""")
        cursor.execute("""
            UPDATE failover_pair SET state = 'healthy', state_since = now() - id * interval '1 minute'
            WHERE state = 'never_checked'""")
        cursor.execute("ANALYZE")


def principals() -> dict[str, dict[str, str]]:
    """Headers for each kind of caller: an API token and a session cookie (the UI pages)."""
    organization = first_organization()
    users = {
        "operator": User.objects.get_or_create(username="bench-platform", defaults={"is_platform_operator": True})[0],
        "org": User.objects.get_or_create(username="bench-org-admin")[0],
    }
    Membership.objects.get_or_create(organization=organization, user=users["org"], defaults={"role": Role.ADMIN})
    headers = {}
    for kind, user in users.items():
        _token, secret = api_token_create(actor=user, name=f"bench {time.time()}")
        client = Client()
        client.force_login(user)
        headers[kind] = {"api": f"Token {secret}", "cookie": f"sessionid={client.cookies['sessionid'].value}"}
    return headers


def start_gunicorn(port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "portal.wsgi:application", "-w", str(ARGS.workers), "-b",
         f"127.0.0.1:{port}", "--log-level", "warning", "--keep-alive", "30"],
        cwd=ROOT, env={**os.environ, **ENV},
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("gunicorn did not start")


def first_organization():
    return Organization.objects.order_by("pk").first()


def cursor_before_last(queryset, ordering: list[str], page: int = 100) -> str:
    """The keyset position whose next page is the list's last ``page`` rows (what following the links reaches)."""
    descending = ordering[0].startswith("-")
    order = [*ordering, "-pk" if descending else "pk"]
    fields = [name.lstrip("-") for name in order]
    total = queryset.count()
    row = queryset.order_by(*order).values_list(*fields)[max(0, total - page - 1)]
    return encode_cursor(values=list(row))


def endpoints(count_appliances: int, count_pairs: int) -> list[tuple[str, str, str]]:
    """(name, caller, path): API paths answer JSON to a token, UI paths HTML to a session."""
    last_appliances = max(0, count_appliances - 100)
    last_pairs = max(0, count_pairs - 100)
    return [
        ("appliances first page", "operator", "/api/v1/appliances/?limit=100"),
        ("appliances last page", "operator", f"/api/v1/appliances/?limit=100&offset={last_appliances}"),
        ("appliances by host, last page", "operator",
         f"/api/v1/appliances/?limit=100&offset={last_appliances}&ordering=-management_host"),
        ("appliances by last check", "operator", "/api/v1/appliances/?limit=100&ordering=-status_checked_at"),
        ("appliances search", "operator", "/api/v1/appliances/?limit=100&q=pair123"),
        ("appliances first page (org)", "org", "/api/v1/appliances/?limit=100"),
        ("appliances last page (org)", "org", f"/api/v1/appliances/?limit=100&offset={count_appliances // 2 - 100}"),
        ("pairs first page", "operator", "/api/v1/pairs/?limit=100"),
        ("pairs last page", "operator", f"/api/v1/pairs/?limit=100&offset={last_pairs}"),
        # Keyset pagination (?cursor=): the last page is the one after the 101st row from the end.
        ("appliances first page (cursor)", "operator", "/api/v1/appliances/?limit=100&cursor="),
        ("appliances last page (cursor)", "operator",
         f"/api/v1/appliances/?limit=100&cursor={cursor_before_last(Appliance.objects.all(), ['name'])}"),
        ("appliances by host, last (cursor)", "operator", "/api/v1/appliances/?limit=100&ordering=-management_host"
         f"&cursor={cursor_before_last(Appliance.objects.all(), ['-management_host'])}"),
        ("appliances by last check (cursor)", "operator",
         "/api/v1/appliances/?limit=100&ordering=-status_checked_at&cursor="),
        ("appliances search (cursor)", "operator", "/api/v1/appliances/?limit=100&q=pair123&cursor="),
        ("appliances last page (org, cursor)", "org", "/api/v1/appliances/?limit=100&cursor="
         f"{cursor_before_last(Appliance.objects.filter(organization=first_organization()), ['name'])}"),
        ("pairs first page (cursor)", "operator", "/api/v1/pairs/?limit=100&cursor="),
        ("pairs last page (cursor)", "operator",
         f"/api/v1/pairs/?limit=100&cursor={cursor_before_last(Pair.objects.all(), ['site_hostname'])}"),
        ("alerts", "operator", "/api/v1/alerts/?limit=100"),
        ("operations (cursor)", "operator", "/api/v1/operations/?limit=100&cursor="),
        ("advice API (operator)", "operator", "/api/v1/advice/?limit=100"),
        ("advice API groups (operator)", "operator", "/api/v1/advice/groups/"),
        ("dashboard (page)", "operator", "/"),
        ("pair list (page)", "operator", "/failover/pairs/"),
        ("alerts (page)", "operator", "/failover/alerts/"),
        ("advice (page, org)", "org", "/failover/advice/"),
        ("advice (page, operator)", "operator", "/failover/advice/"),
    ]


def measure(port: int, caller: dict[str, str], path: str) -> tuple[list[float], int, int]:
    header = {"Authorization": caller["api"]} if path.startswith("/api/") else {"Cookie": caller["cookie"]}
    latencies: list[float] = []
    sizes, statuses = [], set()
    lock = threading.Lock()
    per_connection = max(1, ARGS.requests // ARGS.connections)

    def run():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = []
        for i in range(per_connection + 2):
            started = time.perf_counter()
            conn.request("GET", path, headers=header)
            response = conn.getresponse()
            body = response.read()
            if i >= 2:  # two warm-up requests per connection (worker caches, connection set-up)
                mine.append(time.perf_counter() - started)
            with lock:
                statuses.add(response.status)
                sizes.append(len(body))
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=run) for _ in range(ARGS.connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if statuses != {200}:
        print(f"  !! {path}: HTTP {sorted(statuses)}")
    return latencies, int(statistics.median(sizes)), len(latencies)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main() -> None:
    try:
        migrate()  # with --reuse: what the code added since (e.g. indexes, built concurrently on the full tables)
        if not ARGS.reuse:
            build_fleet()
        steady_state()
        started = time.perf_counter()
        swept = advice_sweep()
        print(f"advice sweep: {swept.pairs:,} pairs re-checked in {time.perf_counter() - started:.1f} s "
              f"({swept.raised:,} findings raised, {swept.changed:,} changed, {swept.cleared:,} cleared)")
        callers = principals()
        count_appliances, count_pairs = Appliance.objects.count(), Pair.objects.count()
        print(f"fleet: {count_appliances:,} appliances, {count_pairs:,} pairs in "
              f"{Organization.objects.count()} organisations")
        connection.close()
        port = free_port()
        server = start_gunicorn(port)
        try:
            print(f"gunicorn: {ARGS.workers} workers; {ARGS.connections} connections; {ARGS.requests} requests "
                  "per endpoint (after 2 warm-up requests per connection)")
            print(f"{'endpoint':<34} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'bytes':>9}")
            for name, who, path in endpoints(count_appliances, count_pairs):
                if ARGS.only and name not in ARGS.only:
                    continue
                latencies, size, _n = measure(port, callers[who], path)
                print(f"{name:<34} {percentile(latencies, .5) * 1000:8.1f} {percentile(latencies, .95) * 1000:8.1f}"
                      f" {max(latencies) * 1000:8.1f} {size:9,}", flush=True)
        finally:
            server.terminate()
            server.wait(20)
    finally:
        connection.close()
        if not ARGS.keep:
            harness.drop_database(ARGS.database)


if __name__ == "__main__":
    main()
