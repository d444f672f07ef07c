"""The alerts that were sent (or suppressed for want of recipients): who was told what, when."""

from appliances.selectors import appliance_unshown_fields
from portal.views.generic import ObjectListView

from ..models import Alert


class AlertListView(ObjectListView):
    model = Alert
    select_related = ("organization", "pair", "appliance")
    defer = ("pair__dns_tsig_secret", *appliance_unshown_fields("appliance"))
    table_template = "failover/alerts/alert_table.html"
