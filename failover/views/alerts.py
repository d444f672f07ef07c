"""The alerts that were sent (or suppressed for want of recipients): who was told what, when."""

from portal.views.generic import ObjectListView

from ..models import Alert


class AlertListView(ObjectListView):
    model = Alert
    select_related = ("organization", "pair", "appliance")
    table_template = "failover/alerts/alert_table.html"
