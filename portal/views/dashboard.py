from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from appliances.selectors import appliance_fleet_summary


@login_required
def dashboard(request):
    context = {"appliances": appliance_fleet_summary(user=request.user, organization=request.organization)}
    return render(request, "portal/dashboard.html", context)
