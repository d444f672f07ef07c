from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from ..panels import PanelSlot, panels_for


@login_required
def dashboard(request):
    # The apps register what the dashboard shows (appliances, pair states, pairs without failover during an RMA);
    # the page polls itself (htmx) so it stays live.
    context = {"summary_panels": panels_for(PanelSlot.DASHBOARD_SUMMARY, request),
               "panels": panels_for(PanelSlot.DASHBOARD, request), "dashboard_refresh_url": request.path}
    return render(request, "portal/dashboard.html", context)
