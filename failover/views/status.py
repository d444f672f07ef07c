"""Live status pages: one appliance's latest status and history, a pair's status panel (embedded in the pair
page through ``failover/status/pair_status_panel.html``), refreshed by htmx polling of the fragment views."""

from django.utils import timezone

from appliances.models import Appliance
from portal.views.generic import ObjectDetailView

from ..models import Pair
from ..outage_selectors import pair_outage_panel
from ..selectors import (
    appliance_pairs,
    appliance_status_history,
    appliance_unshown_fields,
    pair_status_history,
    pair_unshown_fields,
)

#: Seconds between htmx refreshes of a status panel (the probe loop itself runs every few seconds).
REFRESH_SECONDS = 10


class ApplianceStatusView(ObjectDetailView):
    model = Appliance
    select_related = ("organization",)
    template_name = "failover/status/appliance_status.html"

    def get_queryset(self):
        return super().get_queryset().defer(*appliance_unshown_fields())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            appliance=self.object,
            history=appliance_status_history(user=self.request.user, appliance=self.object),
            pairs=appliance_pairs(user=self.request.user, appliance=self.object).defer(*pair_unshown_fields()),
            refresh_seconds=REFRESH_SECONDS,
        )
        return context


class ApplianceStatusFragmentView(ApplianceStatusView):
    template_name = "failover/status/appliance_status_body.html"


class PairStatusView(ObjectDetailView):
    model = Pair
    select_related = ("organization", "primary", "backup")
    template_name = "failover/status/pair_status.html"

    def get_queryset(self):
        return super().get_queryset().defer(*pair_unshown_fields())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(pair=self.object, refresh_seconds=REFRESH_SECONDS,
                       outage=pair_outage_panel(pair=self.object, now=timezone.now()),
                       **pair_status_history(user=self.request.user, pair=self.object))
        return context


class PairStatusFragmentView(PairStatusView):
    template_name = "failover/status/pair_status_panel_body.html"
