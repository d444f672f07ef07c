from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from appliances.selectors import appliance_fleet_summary, pairs_without_failover_for_rma
from failover.selectors import pair_state_counts, pairs_needing_attention


@login_required
def dashboard(request):
    context = {"appliances": appliance_fleet_summary(user=request.user, organization=request.organization)}
    # Pair states, those needing attention first; the page polls itself (htmx) so it stays live.
    user, organization = request.user, request.organization
    context["panels"] = [{"template": "failover/status/dashboard_panel.html", "data": {
        "counts": pair_state_counts(user=user, organization=organization),
        "attention": pairs_needing_attention(user=user, organization=organization),
    }}, {"template": "appliances/rma/dashboard_panel.html", "data": {
        "rows": pairs_without_failover_for_rma(user, organization),
    }}]
    context["dashboard_refresh_url"] = request.path
    return render(request, "portal/dashboard.html", context)
