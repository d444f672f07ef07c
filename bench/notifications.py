"""Measure the notification pipeline and /metrics on a scratch PostgreSQL database.

    .venv/bin/python bench/notifications.py --pairs 300

Prints: time to raise one critical alert per pair (labels, silences and routing included); time for the
sweeper to turn them into messages, grouped by kind (one message) and grouped by pair (one per pair); time to
deliver those messages through Django's in-memory mail backend; and the time and size of one /metrics scrape
with the fleet in the database. The figures are the portal's own cost (no network channel is involved).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bench.portal_processes as harness  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=300)
    harness.add_scratch_arguments(parser, name="notify", redis_db=13)
    return parser.parse_args()


ARGS = parse_args()
# create_schema() below recreates the database with the tables made from the models.
harness.scratch_django(database=ARGS.database, redis=ARGS.redis, name="notify", reuse=True)

from django.conf import settings  # noqa: E402
from django.core import mail  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from appliances.models import Appliance, ApplianceProbeStatus  # noqa: E402
from bench.scratch_db import create_schema  # noqa: E402
from failover.alerts import AlertKind  # noqa: E402
from failover.models import Pair, PairState  # noqa: E402
from portal.models import AlertSeverity, ChannelKind, NotificationChannel, NotificationRoute, Organization  # noqa: E402
from portal.services.alerts import alert_raise  # noqa: E402
from portal.services.notifications import alert_groups_flush, notifications_deliver_due  # noqa: E402


def fleet(organization, count: int) -> list[Pair]:
    appliances = Appliance.objects.bulk_create([
        Appliance(organization=organization, name=f"a{n}", management_host=f"127.9.{n // 250}.{n % 250 + 1}",
                  tls_pin="ab" * 32, status_reachable=n % 7 != 0, status_checked_at=timezone.now())
        for n in range(2 * count)])
    # Rows inserted in bulk have no probe-status row yet: give them theirs, with the last check set above.
    ApplianceProbeStatus.objects.bulk_create([ApplianceProbeStatus(appliance=a, status_checked_at=a.status_checked_at)
                                              for a in appliances])
    return Pair.objects.bulk_create([
        Pair(organization=organization, site_hostname=f"site{n}.example.com", primary=appliances[2 * n],
             backup=appliances[2 * n + 1], state=PairState.PRIMARY_UNREACHABLE, state_since=timezone.now(),
             last_sync_at=timezone.now(), network_method="dns_swing", backup_host=appliances[2 * n + 1].management_host,
             reverse_host=appliances[2 * n].management_host)
        for n in range(count)])


def timed(label: str, work) -> object:
    """Wall time and SQL queries (the query count does not depend on how busy the machine is)."""
    connection.queries_log.clear()  # a bounded deque: a long step would overflow it
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        result = work()
        elapsed = time.perf_counter() - started
    print(f"{label:<58} {elapsed * 1000:9.1f} ms {len(queries):7d} queries "
          f"({elapsed / max(ARGS.pairs, 1) * 1e3:6.2f} ms, {len(queries) / max(ARGS.pairs, 1):5.1f} q per pair)")
    return result


def scenario(organization, pairs, group_by: list[str], tag: str) -> None:
    NotificationRoute.objects.filter(organization=organization).delete()
    if group_by != ["kind"]:
        route = NotificationRoute.objects.create(organization=organization, name="per pair", group_by=group_by,
                                                 group_wait=0)
        route.channels.set([NotificationChannel.objects.get_or_create(
            organization=organization, name="noc", kind=ChannelKind.EMAIL, recipients="noc@example.com")[0]])
    now = timezone.now()

    def raise_all():
        for pair in pairs:
            alert_raise(organization=organization, kind=AlertKind.PRIMARY_DOWN_COUNTDOWN,
                        severity=AlertSeverity.CRITICAL, dedup_key=f"countdown:{pair.pk}:{tag}",
                        subject=f"{pair.site_hostname}: primary down", body="bench", scope=pair,
                        target=pair.primary, now=now)

    timed(f"raise {len(pairs)} alerts (group by {','.join(group_by)})", raise_all)
    created = timed("  sweeper: groups -> messages", lambda: alert_groups_flush(now=now))
    mail.outbox = []
    sent = timed(f"  deliver {created} message(s) (locmem mail)", lambda: notifications_deliver_due(now=now))
    print(f"  {created} message(s) created, {sent} sent, largest body {max(len(m.body) for m in mail.outbox)} chars")


def main() -> None:
    create_schema()
    try:
        run()
    finally:
        connection.close()
        harness.drop_database(ARGS.database)


def run() -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.ALERT_GROUP_WAIT_SECONDS = 0
    settings.METRICS_REDIS_PREFIX = f"bench:{time.time()}:"
    organization = Organization.objects.create(name="Bench", slug="bench", alert_recipients="noc@example.com")
    pairs = timed(f"create {ARGS.pairs} pairs", lambda: fleet(organization, ARGS.pairs))
    pairs = list(Pair.objects.select_related("organization", "primary").filter(pk__in=[p.pk for p in pairs]))
    scenario(organization, pairs, ["kind"], "1")
    scenario(organization, pairs, ["pair"], "2")
    later = timezone.now() + timedelta(seconds=30)
    timed("  a sweep with nothing due (every group firing, waiting)", lambda: alert_groups_flush(now=later))
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client()
    client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {settings.METRICS_TOKEN}")  # warm
    response = timed("one /metrics scrape", lambda: client.get(
        "/metrics", HTTP_AUTHORIZATION=f"Bearer {settings.METRICS_TOKEN}"))
    lines = response.content.decode().count("\n")
    print(f"  /metrics: {len(response.content) / 1024:.0f} KiB, {lines} lines, status {response.status_code}")


if __name__ == "__main__":
    main()
