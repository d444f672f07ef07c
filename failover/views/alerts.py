"""The alerts that were sent (or suppressed for want of recipients): who was told what, when."""

from portal.models import Alert
from portal.views.generic import ObjectListView

from ..selectors import alert_links_prefetch


class AlertListView(ObjectListView):
    model = Alert
    select_related = ("organization",)
    table_template = "failover/alerts/alert_table.html"

    def get_base_queryset(self):
        return super().get_base_queryset().prefetch_related(*alert_links_prefetch())
