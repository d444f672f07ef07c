from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone

from portal.http import attachment_response
from portal.panels import PanelSlot, panels_for
from portal.permissions import has_role, require_role
from portal.views.generic import ObjectDeleteView, ObjectDetailView, ObjectEditView, ObjectListView

from ..csv_io import CSV_COLUMNS, appliances_export_csv, appliances_import_csv
from ..filtersets import ApplianceFilterSet
from ..forms import ApplianceAddressForm, ApplianceForm, ApplianceImportForm
from ..models import Appliance, ApplianceAddress
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
    select_related = ("organization",)
    prefetch_related = ("addresses",)
    table_template = "appliances/includes/appliance_table.html"
    extra_buttons_template = "appliances/includes/appliance_list_buttons.html"
    add_url_name = "appliances:appliance_add"
    add_role = INVENTORY_ROLES["create"]


class ApplianceDetailView(ObjectDetailView):
    model = Appliance
    select_related = ("organization",)
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
    result = None
    if request.method == "POST" and form.is_valid():
        organization = form.cleaned_data["organization"]
        require_role(request.user, organization, INVENTORY_ROLES["create"])
        result = appliances_import_csv(actor=request.user, organization=organization, data=form.cleaned_data["file"].read())
        if result.ok:
            messages.success(request, f"Imported {len(result.created)} appliance(s) into {organization}.")
            return redirect("appliances:appliance_list")
    status = 400 if request.method == "POST" and (not form.is_valid() or (result and not result.ok)) else 200
    return render(
        request, "appliances/appliance_import.html", {"form": form, "result": result, "columns": CSV_COLUMNS}, status=status
    )


@login_required
def appliance_export(request):
    filterset = ApplianceFilterSet(
        request.GET or None, queryset=appliance_list(user=request.user, organization=request.organization), request=request
    )
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    return attachment_response(
        appliances_export_csv(filterset.qs), filename=f"appliances-{stamp}.csv", content_type="text/csv; charset=utf-8"
    )

