"""/metrics: protected by a token or an allowed network, parsed with prometheus_client's parser, its values
checked against the database and against what the real probe loop and the alerts did."""

import uuid
from collections import defaultdict

import pytest
from django.db.models import Count
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from appliances.models import Appliance
from failover.models import Pair, PairState
from portal.models import AlertSeverity
from tests.factories import PairFactory, appliance_status_set
from tests.failover.probing.fleet import fleet_fixture  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def own_counters(settings):
    """Counters live in Redis and outlive a test: each test counts under its own prefix."""
    settings.METRICS_REDIS_PREFIX = f"test-metrics:{uuid.uuid4().hex}:"


def scrape(client, **headers) -> dict:
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer test-metrics-token", **headers)
    assert response.status_code == 200, response.status_code
    samples = defaultdict(dict)
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[sample.name][tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def test_metrics_need_the_token_or_an_allowed_network(client, settings):
    settings.METRICS_ALLOWED_NETWORKS = ["10.9.0.0/16"]
    assert client.get("/metrics").status_code == 404  # the test client's 127.0.0.1 is outside
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer test-metrics-token").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.9.3.4").status_code == 200


def test_pairs_and_appliances_match_the_database(client, org_a, org_b):
    PairFactory.create_batch(3, organization=org_a, state=PairState.HEALTHY)
    PairFactory.create_batch(2, organization=org_a, state=PairState.CONFLICT)
    PairFactory(organization=org_b, state=PairState.SYNC_STALE)
    Appliance.objects.filter(pk__in=Appliance.objects.filter(organization=org_a).values("pk")[:4]).update(
        status_reachable=True)
    metrics = scrape(client)

    pairs = metrics["portal_pairs"]
    for row in Pair.objects.values("organization__slug", "state").annotate(n=Count("id")):
        assert pairs[(("organization", row["organization__slug"]), ("state", row["state"]))] == row["n"]
    assert pairs[(("organization", "bravo"), ("state", PairState.CONFLICT.value))] == 0  # zeros are series too
    assert sum(pairs.values()) == Pair.objects.count()
    appliances = metrics["portal_appliances"]
    assert appliances[(("organization", "alpha"), ("reachable", "true"))] == 4
    assert appliances[(("organization", "alpha"), ("reachable", "unknown"))] == 6
    assert sum(appliances.values()) == Appliance.objects.count()


def test_alerts_raised_and_delivered_are_counted(client, pairs, raise_down):
    from portal.services.notifications import alerts_deliver_pending  # noqa: PLC0415 (after the settings fixture)

    for pair in pairs:
        raise_down(pair)
    alerts_deliver_pending()
    metrics = scrape(client)
    raised = metrics["portal_alerts_raised_total"]
    assert raised[(("kind", "countdown"), ("severity", AlertSeverity.CRITICAL.value))] == len(pairs)
    assert metrics["portal_notifications_total"][(("channel_kind", "default"), ("outcome", "sent"))] == 1
    assert metrics["portal_alerts_firing"][(("organization", "alpha"), ("severity", "critical"))] == len(pairs)
    assert metrics["portal_notifications_by_status"][(("status", "sent"),)] == 1
    assert (("queue", "probes"),) in metrics["portal_queue_depth"]


def test_real_probes_are_counted_with_their_latency(client, fleet):
    fleet.probe()
    metrics = scrape(client)
    probed = len(fleet.appliances)
    assert metrics["portal_probes_total"][(("outcome", "ok"),)] == probed
    assert metrics["portal_probe_latency_seconds_count"][(("outcome", "ok"),)] == probed
    assert metrics["portal_probe_latency_seconds_bucket"][(("le", "+Inf"), ("outcome", "ok"))] == probed
    assert 0 < metrics["portal_probe_latency_seconds_sum"][(("outcome", "ok"),)] < probed * 5
    since = metrics["portal_appliance_seconds_since_probe"]
    assert len(since) == probed and all(0 <= value < 60 for value in since.values())
    fleet.sim.set_fault(next(iter(fleet.appliances.values())).management_host, "down")
    fleet.probe()
    assert scrape(client)["portal_probes_total"][(("outcome", "failed"),)] == 1


def test_dashboard_and_rules_name_only_metrics_that_exist(client, pairs, raise_down):
    """docs/grafana-dashboard.json and docs/prometheus-alert-rules.yml query what /metrics serves (a renamed
    metric would leave an empty panel or a rule that never fires)."""
    import re  # noqa: PLC0415 (this test alone)
    from pathlib import Path  # noqa: PLC0415 (this test alone)

    from portal import metrics as shared  # noqa: PLC0415 (this test alone)

    # One observation of each shared histogram and counter, so every family has samples.
    shared.OPERATIONS.inc(kind="sync", outcome="succeeded")
    shared.OPERATION_SECONDS.observe(3, kind="sync", outcome="succeeded")
    shared.PROBES.inc(outcome="ok")
    shared.PROBE_SECONDS.observe(0.02, outcome="ok")
    shared.ALERTS_SUPPRESSED.inc(kind="countdown")
    Pair.objects.filter(pk=pairs[0].pk).update(last_sync_at=timezone.now())
    appliance_status_set(pairs[0].primary_id, status_checked_at=timezone.now())
    raise_down(pairs[0])
    from portal.services.notifications import alerts_deliver_pending  # noqa: PLC0415 (after the settings fixture)

    alerts_deliver_pending()
    served = {re.sub(r"_(bucket|count|sum)$", "", name) for name in scrape(client)}
    docs = Path(__file__).resolve().parents[3] / "docs"
    named = set()
    for document in ("grafana-dashboard.json", "prometheus-alert-rules.yml"):
        named |= {re.sub(r"_(bucket|count|sum)$", "", n)
                  for n in re.findall(r"\bportal_[a-z_]+", (docs / document).read_text())}
    assert named and named <= served, sorted(named - served)
