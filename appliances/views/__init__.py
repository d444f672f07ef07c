from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views import View

from portal.http import attachment_response
from portal.panels import PanelSlot, panels_for
from portal.permissions import has_role
from portal.views.generic import (
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    TenantViewMixin,
)

from ..connection import appliance_test_connection
from ..csv_io import CSV_COLUMNS, appliance_import_request, appliances_export_csv
from ..filtersets import ApplianceFilterSet
from ..forms import TEST_CONNECTION, ApplianceAddressForm, ApplianceForm, ApplianceImportForm
from ..models import Appliance, ApplianceAddress, ApplianceImport
from ..selectors import appliance_list
from ..services import (
    INVENTORY_ROLES,
    address_create,
    address_delete,
    address_update,
    appliance_create,
    appliance_delete,
    appliance_update,
)


class ApplianceListView(ObjectListView):
    model = Appliance
    filterset_class = ApplianceFilterSet
    select_related = ("organization", "probe_status")  # the last check of each row
    prefetch_related = ("addresses",)
    table_template = "appliances/includes/appliance_table.html"
    extra_buttons_template = "appliances/includes/appliance_list_buttons.html"
    add_url_name = "appliances:appliance_add"
    add_role = INVENTORY_ROLES["create"]


class ApplianceDetailView(ObjectDetailView):
    model = Appliance
    select_related = ("organization", "probe_status")
    prefetch_related = ("addresses",)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_edit"] = has_role(self.request.user, self.object.organization_id, INVENTORY_ROLES["update"])
        context["panels"] = panels_for(PanelSlot.APPLIANCE_DETAIL, self.request, appliance=self.object)
        return context


class ApplianceEditView(ObjectEditView):
    model = Appliance
    form_class = ApplianceForm
    required_role = INVENTORY_ROLES["update"]
    template_name = "appliances/appliance_edit.html"

    def form_valid(self, form):
        if TEST_CONNECTION in self.request.POST:
            # "Test connection" on the form: the values as entered, nothing saved.
            report = appliance_test_connection(actor=self.request.user, appliance=form.instance)
            return self.render_to_response(self.get_context_data(form=form, report=report))
        return super().form_valid(form)

    def save(self, form, instance):
        data = dict(form.cleaned_data)
        if instance is None:
            return appliance_create(actor=self.request.user, **data)
        return appliance_update(actor=self.request.user, appliance=instance, data=data)


class ApplianceDeleteView(ObjectDeleteView):
    model = Appliance
    required_role = INVENTORY_ROLES["delete"]
    success_url_name = "appliances:appliance_list"

    def delete(self, instance):
        appliance_delete(actor=self.request.user, appliance=instance)


class ApplianceAddressEditView(ObjectEditView):
    model = ApplianceAddress
    form_class = ApplianceAddressForm
    required_role = INVENTORY_ROLES["update"]

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        appliance_id = self.request.GET.get("appliance", "")
        if self.object is None and appliance_id.isdigit():
            kwargs["appliance"] = Appliance.objects.for_user(self.request.user).filter(pk=appliance_id).first()
        return kwargs

    def save(self, form, instance):
        data = dict(form.cleaned_data)
        if instance is None:
            appliance = data.pop("appliance")
            return address_create(actor=self.request.user, appliance=appliance, **data)
        return address_update(actor=self.request.user, address=instance, data=data)


class ApplianceAddressDeleteView(ObjectDeleteView):
    model = ApplianceAddress
    required_role = INVENTORY_ROLES["delete"]
    success_url_name = "appliances:appliance_list"

    def delete(self, instance):
        address_delete(actor=self.request.user, address=instance)


@login_required
def appliance_import(request):
    form = ApplianceImportForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        organization = form.cleaned_data["organization"]
        upload = form.cleaned_data["file"]
        try:
            job = appliance_import_request(actor=request.user, organization=organization, data=upload.read(),
                                           filename=upload.name or "")
        except ValidationError as exc:
            form.add_error("file", exc)
        else:
            return redirect("appliances:appliance_import_status", pk=job.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "appliances/appliance_import.html", {
        "form": form, "columns": CSV_COLUMNS, "max_rows": settings.CSV_IMPORT_MAX_ROWS,
        "recent": ApplianceImport.objects.for_user(request.user, role=INVENTORY_ROLES["create"]).defer("content")[:5],
    }, status=status)


@login_required
def appliance_import_status(request, pk):
    """The import's progress; the page reloads itself until the worker has finished."""
    job = get_object_or_404(ApplianceImport.objects.for_user(request.user, role=INVENTORY_ROLES["create"]).defer("content"), pk=pk)
    return render(request, "portal/csv_job_status.html", {
        "job": job, "verb": "import", "failed_verb": "imported", "noun": "appliance",
        "done_url": reverse("appliances:appliance_list"), "done_label": "Appliances",
        "again_url": reverse("appliances:appliance_import"),
    })


appliance_import_status.model = ApplianceImport  # for the generic route tests


@login_required
def appliance_export(request):
    filterset = ApplianceFilterSet(
        request.GET or None, queryset=appliance_list(user=request.user, organization=request.organization), request=request
    )
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    return attachment_response(
        appliances_export_csv(filterset.qs), filename=f"appliances-{stamp}.csv", content_type="text/csv; charset=utf-8"
    )



class ApplianceTestConnectionView(TenantViewMixin, View):
    """"Test connection" from the appliance page: reads the appliance (get_api_info, check_health, capabilities)
    and shows what the portal can do with its account. Changes nothing on the appliance."""

    model = Appliance
    http_method_names = ["post"]

    def post(self, request, pk):
        appliance = get_object_or_404(self.get_base_queryset(), pk=pk)
        report = appliance_test_connection(actor=request.user, appliance=appliance)
        return render(request, "appliances/connection_report.html", {"object": appliance, "report": report})
