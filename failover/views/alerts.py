"""The alerts: what was raised, what became of it (firing, acknowledged, resolved, suppressed), who was told."""

from portal.models import Alert
from portal.views.generic import ObjectListView

from ..filtersets import AlertPageFilterSet
from ..selectors import alert_links_prefetch


class AlertListView(ObjectListView):
    model = Alert
    select_related = ("organization",)
    table_template = "failover/alerts/alert_table.html"
    filterset_class = AlertPageFilterSet
    extra_buttons_template = "portal/notifications/settings_nav.html"

    def get_base_queryset(self):
        return super().get_base_queryset().prefetch_related(*alert_links_prefetch())
