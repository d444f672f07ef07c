"""Gauges the portal reads at scrape time: alerts still firing, deliveries waiting or failed, Celery queue
depth. Constant cost: one grouped query per family, whatever the fleet's size."""

from __future__ import annotations

import logging

import redis
from django.conf import settings
from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily

from ..models import FIRING, Alert, Notification, NotificationStatus

logger = logging.getLogger(__name__)


class PortalCollector:
    def collect(self):
        firing = GaugeMetricFamily("portal_alerts_firing", "Alerts firing, not acknowledged, not silenced.",
                                   labels=["organization", "severity"])
        for row in (Alert.objects.filter(FIRING).values("organization__slug", "severity")
                    .annotate(n=Count("id")).order_by()):
            firing.add_metric([row["organization__slug"], row["severity"]], row["n"])
        yield firing
        deliveries = GaugeMetricFamily("portal_notifications_by_status",
                                       "Deliveries by status (retrying and gave_up are failures to look at).",
                                       labels=["status"])
        counts = dict(Notification.objects.values_list("status").annotate(n=Count("id")).order_by())
        for status in NotificationStatus:
            deliveries.add_metric([status.value], counts.get(status.value, 0))
        yield deliveries
        yield from _queue_depth()


def _queue_names() -> list[str]:
    names = {"celery"}
    for route in getattr(settings, "CELERY_TASK_ROUTES", {}).values():
        if isinstance(route, dict) and route.get("queue"):
            names.add(route["queue"])
    return sorted(names)


def _queue_depth():
    family = GaugeMetricFamily("portal_queue_depth", "Messages waiting in each Celery queue (Redis broker).",
                               labels=["queue"])
    url = settings.CELERY_BROKER_URL
    if url.startswith(("redis://", "rediss://")):
        try:
            client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
            pipe = client.pipeline(transaction=False)
            names = _queue_names()
            for name in names:
                pipe.llen(name)
            for name, depth in zip(names, pipe.execute(), strict=True):
                family.add_metric([name], depth)
        except redis.RedisError as exc:
            logger.warning("queue depth not readable: %s", exc)
    yield family
