"""Probe locations: an organisation's default locations and quorum, and one appliance's override (the writes and
their audit are the services'; failover/services/locations.py)."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views import View

from appliances.models import Appliance
from portal.models import Organization
from portal.permissions import require_role

from ..forms import ProbeLocationsForm
from ..models import ApplianceProbeLocations, ProbeSettings
from ..services.locations import LOCATION_ROLES, appliance_probe_locations_set, probe_settings_set

TEMPLATE = "failover/status/probe_locations_form.html"


class _LocationsView(LoginRequiredMixin, View):
    """Another organisation's object is a 404; one the user sees without the role to configure it, a 403."""

    def target(self, pk):
        raise NotImplementedError

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.object = self.target(kwargs["pk"])
        require_role(request.user, self.organization_id, LOCATION_ROLES["configure"])
        return super().dispatch(request, *args, **kwargs)

    def saved(self, form) -> bool:
        """The form's data through the service; False with the service's errors on the form's fields."""
        if not form.is_valid():
            return False
        try:
            self.save(form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
            return False
        return True


class ProbeSettingsView(_LocationsView):
    model = Organization  # for the generic route tests

    def target(self, pk):
        return get_object_or_404(Organization.objects.for_user(self.request.user), pk=pk)

    @property
    def organization_id(self):
        return self.object.pk

    def get(self, request, pk):
        row = ProbeSettings.objects.filter(organization=self.object).first()
        initial = {"locations": row.locations, "quorum": row.quorum} if row else {}
        return self._render(ProbeLocationsForm(initial=initial))

    def post(self, request, pk):
        form = ProbeLocationsForm(request.POST)
        if self.saved(form):
            messages.success(request, f"Probe locations of {self.object} saved.")
            return redirect(request.path)
        return self._render(form)

    def save(self, data) -> None:
        probe_settings_set(actor=self.request.user, organization=self.object, locations=data["locations"],
                           quorum=data["quorum"])

    def _render(self, form):
        return render(self.request, TEMPLATE, {
            "form": form, "heading": f"Probe locations of {self.object}",
            "intro": "The default for every appliance of the organisation (an appliance may override the "
                     "locations; the quorum is the organisation's). docs/automatic-failover.md explains "
                     "locations, quorum and isolation."})


class ApplianceProbeLocationsView(_LocationsView):
    model = Appliance  # for the generic route tests

    def target(self, pk):
        return get_object_or_404(Appliance.objects.for_user(self.request.user).select_related("organization"), pk=pk)

    @property
    def organization_id(self):
        return self.object.organization_id

    def get(self, request, pk):
        row = ApplianceProbeLocations.objects.filter(appliance=self.object).first()
        return self._render(ProbeLocationsForm(initial={"locations": row.locations if row else []},
                                               with_quorum=False))

    def post(self, request, pk):
        form = ProbeLocationsForm(request.POST, with_quorum=False)
        if self.saved(form):
            messages.success(request, f"Probe locations of {self.object.name} saved.")
            return redirect(self.object.get_absolute_url())  # its page shows the locations panel
        return self._render(form)

    def save(self, data) -> None:
        appliance_probe_locations_set(actor=self.request.user, appliance=self.object, locations=data["locations"])

    def _render(self, form):
        default = ProbeSettings.objects.filter(organization_id=self.object.organization_id).first()
        names = ", ".join(default.locations) if default and default.locations else "local"
        return render(self.request, TEMPLATE, {
            "form": form, "heading": f"Probe locations of {self.object.name}",
            "intro": f"Overrides the organisation's default ({names}) for this appliance only."})
