"""Prometheus metrics: counters and histograms kept in Redis (shared by the web processes and every Celery
worker, on any host), and gauges read from the database at scrape time by collectors the apps register.

Why Redis and not prometheus_client's multiprocess mode: multiprocess mode shares a directory of mmap files, so
it only sums processes on one host and needs the directory wiped at each deploy; the probe and delivery work
runs in Celery workers that may sit on other hosts (and restart often). One pipelined HINCRBYFLOAT per probe
batch or delivery is cheap, survives restarts, and a scrape reads it in one round trip per family. Without
REDIS_URL (the embedded demo) the values are kept in the process: right for one process, which is what that
mode runs. A Redis that cannot be reached drops the update (logged): metrics never break the work they count.

Usage: ``ALERTS_RAISED.inc(kind=..., severity=...)``, ``PROBE_SECONDS.observe_many([...], outcome="ok")``.
Collectors: ``register_collector(name, collector)`` with a ``prometheus_client`` custom collector (``collect()``
yielding metric families), from an app's ``AppConfig.ready``.
"""

from .store import (
    ALERTS_RAISED,
    ALERTS_SUPPRESSED,
    NOTIFICATION_SECONDS,
    NOTIFICATIONS,
    OPERATION_SECONDS,
    OPERATIONS,
    PROBE_SECONDS,
    PROBES,
    SharedCounter,
    SharedHistogram,
    register_collector,
    registry,
)

__all__ = [
    "ALERTS_RAISED",
    "ALERTS_SUPPRESSED",
    "NOTIFICATIONS",
    "NOTIFICATION_SECONDS",
    "OPERATIONS",
    "OPERATION_SECONDS",
    "PROBES",
    "PROBE_SECONDS",
    "SharedCounter",
    "SharedHistogram",
    "register_collector",
    "registry",
]
