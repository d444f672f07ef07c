"""Pair gauges for /metrics (registered in ``FailoverConfig.ready``): one grouped query per family."""

from django.db.models import Count
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from .models import Pair, PairState


class PairCollector:
    def collect(self):
        states = GaugeMetricFamily("portal_pairs", "Pairs by organisation and state.", labels=["organization", "state"])
        counts = {(slug, state): n for slug, state, n in
                  Pair.objects.values_list("organization__slug", "state").annotate(n=Count("id")).order_by()}
        # Every state of every organisation that has pairs, zeros included: an alert rule on
        # portal_pairs{state="conflict"} > 0 needs the series to exist when it is 0.
        for slug in sorted({slug for slug, _ in counts}):
            for state in PairState:
                states.add_metric([slug, state.value], counts.get((slug, state.value), 0))
        yield states
        age = GaugeMetricFamily("portal_pair_sync_age_seconds", "Seconds since the last data sync into the backup "
                                "completed (pairs with a recorded sync).", labels=["organization", "pair"])
        now = timezone.now()
        for slug, site, last in (Pair.objects.filter(last_sync_at__isnull=False, broken_at__isnull=True)
                                 .values_list("organization__slug", "site_hostname", "last_sync_at").order_by()):
            age.add_metric([slug, site], (now - last).total_seconds())
        yield age
