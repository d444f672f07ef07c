"""Evacuating a location: the list with the plan form, one evacuation (its plan first, then its progress live),
start and cancel."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views import View

from appliances.models import Appliance
from portal.models import Organization, Role
from portal.permissions import has_role
from portal.views.generic import ObjectDetailView, TenantViewMixin

from ..forms import EvacuationPlanForm
from ..maintenance_selectors import evacuation_items_for_display
from ..models import Evacuation
from ..services.evacuations import evacuation_cancel, evacuation_plan, evacuation_start

POLL_SECONDS = 2


class EvacuationListView(TenantViewMixin, View):
    model = Evacuation
    template_name = "failover/evacuations/evacuation_list.html"

    def get(self, request, form=None):
        evacuations = self.get_base_queryset().in_organization(request.organization).select_related("organization")[:50]
        locations = (Appliance.objects.for_user(request.user).in_organization(request.organization)
                     .exclude(location="").values_list("location", flat=True).distinct().order_by("location"))
        organizations = Organization.objects.for_user(request.user, role=Role.OPERATOR)
        return render(request, self.template_name, {
            "evacuations": evacuations, "locations": list(locations), "model_meta": Evacuation._meta,
            "form": form or EvacuationPlanForm(organizations=organizations,
                                               initial={"organization": request.organization}),
        })

    def post(self, request):
        organizations = Organization.objects.for_user(request.user, role=Role.OPERATOR)
        form = EvacuationPlanForm(request.POST, organizations=organizations)
        if form.is_valid():
            data = dict(form.cleaned_data)
            try:
                evacuation = evacuation_plan(actor=request.user, **data)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                return redirect(evacuation.get_absolute_url())
        return self.get(request, form=form)


class EvacuationDetailView(ObjectDetailView):
    model = Evacuation
    select_related = ("organization", "created_by", "returning")
    template_name = "failover/evacuations/evacuation_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        evacuation = self.object
        items = list(evacuation_items_for_display().filter(evacuation=evacuation))
        counts = {}
        for item in items:
            counts[item.get_status_display()] = counts.get(item.get_status_display(), 0) + 1
        context.update(evacuation=evacuation, items=items, counts=counts, poll_seconds=POLL_SECONDS,
                       can_operate=has_role(self.request.user, evacuation.organization_id, Role.OPERATOR))
        return context


class EvacuationProgressView(EvacuationDetailView):
    template_name = "failover/evacuations/evacuation_progress.html"


class _EvacuationActionView(TenantViewMixin, View):
    model = Evacuation

    def post(self, request, pk):
        evacuation = get_object_or_404(self.get_base_queryset(), pk=pk)
        try:
            self.act(request, evacuation)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect(evacuation.get_absolute_url())


class EvacuationStartView(_EvacuationActionView):
    def act(self, request, evacuation):
        evacuation_start(actor=request.user, evacuation=evacuation)
        messages.success(request, "Evacuation started.")


class EvacuationCancelView(_EvacuationActionView):
    def act(self, request, evacuation):
        evacuation_cancel(actor=request.user, evacuation=evacuation)
        messages.info(request, "No new switchover starts; those running finish.")
