"""Counters and histograms shared across processes through Redis (see the package docstring for why)."""

from __future__ import annotations

import json
import logging
import math
import threading
from collections import defaultdict
from collections.abc import Iterable

import redis
from django.conf import settings
from prometheus_client.core import CollectorRegistry, CounterMetricFamily, HistogramMetricFamily

logger = logging.getLogger(__name__)

_client_lock = threading.Lock()
_client: tuple[str, redis.Redis] | None = None
_local: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))


def _redis() -> redis.Redis | None:
    global _client
    url = getattr(settings, "REDIS_URL", "")
    if not url:
        return None
    with _client_lock:
        if _client is None or _client[0] != url:  # the URL changes only in tests
            _client = (url, redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5))
    return _client[1]


def _key(name: str) -> str:
    return f"{settings.METRICS_REDIS_PREFIX}{name}"


def _add(name: str, increments: dict[str, float]) -> None:
    client = _redis()
    if client is None:
        for field, amount in increments.items():
            _local[name][field] += amount
        return
    try:
        pipe = client.pipeline(transaction=False)
        for field, amount in increments.items():
            pipe.hincrbyfloat(_key(name), field, amount)
        pipe.execute()
    except redis.RedisError as exc:
        logger.debug("metric %s not recorded: %s", name, exc)


def _read(name: str) -> dict[str, float]:
    client = _redis()
    if client is None:
        return dict(_local[name])
    try:
        return {k.decode(): float(v) for k, v in client.hgetall(_key(name)).items()}
    except redis.RedisError as exc:
        logger.warning("metrics %s not readable: %s", name, exc)
        return {}


def _labels_field(labelnames: tuple[str, ...], labels: dict) -> str:
    if set(labels) != set(labelnames):
        raise ValueError(f"Labels {sorted(labels)} do not match {sorted(labelnames)}.")
    return json.dumps([str(labels[name]) for name in labelnames])


class SharedCounter:
    def __init__(self, name: str, documentation: str, labelnames: Iterable[str] = ()) -> None:
        self.name, self.documentation, self.labelnames = name, documentation, tuple(labelnames)
        _SHARED.append(self)

    def inc(self, amount: float = 1.0, **labels) -> None:
        _add(self.name, {_labels_field(self.labelnames, labels): amount})

    def collect(self):
        family = CounterMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for field, value in sorted(_read(self.name).items()):
            family.add_metric(json.loads(field), value)
        yield family


class SharedHistogram:
    def __init__(self, name: str, documentation: str, buckets: Iterable[float], labelnames: Iterable[str] = ()):
        self.name, self.documentation, self.labelnames = name, documentation, tuple(labelnames)
        self.buckets = tuple(sorted(buckets))
        _SHARED.append(self)

    def observe(self, value: float, **labels) -> None:
        self.observe_many([value], **labels)

    def observe_many(self, values: Iterable[float], **labels) -> None:
        """One Redis round trip for a whole batch (a probe batch's latencies)."""
        prefix = _labels_field(self.labelnames, labels)
        increments: dict[str, float] = defaultdict(float)
        for value in values:
            # Stored per bucket (not cumulative); the scrape accumulates.
            bucket = next((b for b in self.buckets if value <= b), math.inf)
            increments[f"{prefix}|{bucket}"] += 1
            increments[f"{prefix}|sum"] += value
        if increments:
            _add(self.name, increments)

    def collect(self):
        family = HistogramMetricFamily(self.name, self.documentation, labels=self.labelnames)
        series: dict[str, dict[str, float]] = defaultdict(dict)
        for field, value in _read(self.name).items():
            labels, _, slot = field.rpartition("|")
            series[labels][slot] = value
        for labels, slots in sorted(series.items()):
            cumulative, buckets = 0.0, []
            for bound in (*self.buckets, math.inf):
                cumulative += slots.get(str(bound), 0.0)
                buckets.append(("+Inf" if bound == math.inf else repr(float(bound)), cumulative))
            family.add_metric(json.loads(labels), buckets, slots.get("sum", 0.0))
        yield family


_SHARED: list = []
_COLLECTORS: dict[str, object] = {}


class _Shared:
    def collect(self):
        for metric in _SHARED:
            yield from metric.collect()


class _Registered:
    """The apps' database collectors, looked up at scrape time (registered in ``ready()``, replaced on reload)."""

    def collect(self):
        for collector in list(_COLLECTORS.values()):
            yield from collector.collect()


registry = CollectorRegistry(auto_describe=False)
registry.register(_Shared())
registry.register(_Registered())


def register_collector(name: str, collector) -> None:
    _COLLECTORS[name] = collector


LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
DURATION_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600)

PROBES = SharedCounter("portal_probes_total", "Appliance probes, by outcome (ok, failed).", ["outcome"])
PROBE_SECONDS = SharedHistogram("portal_probe_latency_seconds", "Time a probe took (TLS handshake included).",
                                LATENCY_BUCKETS, ["outcome"])
OPERATIONS = SharedCounter("portal_operations_total", "Operations finished, by kind and outcome.",
                           ["kind", "outcome"])
OPERATION_SECONDS = SharedHistogram("portal_operation_duration_seconds", "Operation run time, start to finish.",
                                    DURATION_BUCKETS, ["kind", "outcome"])
ALERTS_RAISED = SharedCounter("portal_alerts_raised_total", "Alerts recorded (throttled repeats are not).",
                              ["kind", "severity"])
ALERTS_SUPPRESSED = SharedCounter("portal_alerts_suppressed_total",
                                  "Alerts recorded but sent to nobody (a silence, a replacement case...).", ["kind"])
NOTIFICATIONS = SharedCounter("portal_notifications_total",
                              "Delivery attempts, by channel kind and the row's status after the attempt.",
                              ["channel_kind", "outcome"])
NOTIFICATION_SECONDS = SharedHistogram("portal_notification_send_seconds", "Time one delivery attempt took.",
                                       LATENCY_BUCKETS)
