"""Appliance gauges for /metrics (registered in ``AppliancesConfig.ready``): one grouped query per family."""

from django.db.models import Count
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from .models import Appliance


class ApplianceCollector:
    def collect(self):
        reachable = GaugeMetricFamily("portal_appliances", "Appliances by organisation and reachability "
                                      "(reachable: true, false, unknown = never probed).",
                                      labels=["organization", "reachable"])
        rows = Appliance.objects.values("organization__slug", "status_reachable").annotate(n=Count("id")).order_by()
        for row in rows:
            state = {True: "true", False: "false", None: "unknown"}[row["status_reachable"]]
            reachable.add_metric([row["organization__slug"], state], row["n"])
        yield reachable
        since = GaugeMetricFamily("portal_appliance_seconds_since_probe",
                                  "Seconds since the appliance's last probe (a stalled probe loop shows here).",
                                  labels=["organization", "appliance"])
        now = timezone.now()
        for slug, name, checked in (Appliance.objects.filter(probe_status__status_checked_at__isnull=False)
                                    .values_list("organization__slug", "name", "probe_status__status_checked_at")
                                    .order_by()):
            since.add_metric([slug, name], (now - checked).total_seconds())
        yield since
