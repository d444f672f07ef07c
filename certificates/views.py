"""Certificate pages: inventory list and detail, import, export, per-appliance inventory (a pair's parity and
replication pages are failover's: failover/views/certificates.py). Thin: each view reads through the chokepoint, checks the role, calls one service."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views import View
from django.views.generic import DetailView

from appliances.models import Appliance
from portal.http import attachment_response
from portal.models import Role
from portal.permissions import has_role, require_role
from portal.views.generic import ObjectDeleteView, ObjectDetailView, ObjectEditView, ObjectListView

from .filtersets import CertificateFilterSet
from .forms import CertificateExportForm, CertificateImportForm
from .models import Certificate, ServedCertificate
from .selectors import certificate_list, certificate_warnings, with_warnings
from .services import (
    appliance_certificates_check,
    certificate_delete,
    certificate_export,
    certificate_import,
    certificate_inventory_sync,
    certificate_set_default,
)


class CertificateQuerysetMixin:
    def get_base_queryset(self):
        return certificate_list(user=self.request.user)


class CertificateListView(CertificateQuerysetMixin, ObjectListView):
    model = Certificate
    filterset_class = CertificateFilterSet
    table_template = "certificates/includes/certificate_table.html"
    add_url_name = "certificates:certificate_import"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["object_list"] = with_warnings(context["object_list"])
        return context


class CertificateDetailView(CertificateQuerysetMixin, ObjectDetailView):
    model = Certificate

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        certificate = self.object
        context.update(
            warnings=certificate_warnings(certificate),
            can_admin=has_role(self.request.user, certificate.organization_id, Role.ADMIN),
            served=ServedCertificate.objects.filter(appliance_id=certificate.appliance_id),
        )
        return context


class CertificateImportView(ObjectEditView):
    model = Certificate
    form_class = CertificateImportForm
    template_name = "certificates/form.html"
    extra_context = {"title": "Import a certificate"}

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        appliance_id = self.request.GET.get("appliance", "")
        if appliance_id.isdigit():
            kwargs["appliance"] = Appliance.objects.for_user(self.request.user).filter(pk=appliance_id).first()
        return kwargs

    def save(self, form, instance):
        data = form.cleaned_data
        return certificate_import(
            actor=self.request.user, appliance=data["appliance"], data=data["file"].read(),
            passphrase=data["passphrase"], friendly_name=data["friendly_name"],
            assigned_ip=data["assigned_ip"] or None, make_default=data["make_default"], install=data["install"],
        )


class CertificateExportView(CertificateQuerysetMixin, ObjectEditView):
    """Viewers may export the public certificate; the private key needs the admin role (enforced by the service)."""

    model = Certificate
    form_class = CertificateExportForm
    template_name = "certificates/form.html"
    required_role = Role.VIEWER

    def get_context_data(self, **kwargs):
        return super().get_context_data(title=f"Export {self.object}", **kwargs)

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            exported = certificate_export(
                actor=self.request.user, certificate=self.object, export_format=data["export_format"],
                include_key=data.get("include_key", False), include_chain=data["include_chain"],
                passphrase=data["passphrase"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        return attachment_response(exported.data, filename=exported.filename, content_type=exported.content_type)


class CertificateDeleteView(ObjectDeleteView):
    model = Certificate
    success_url_name = "certificates:certificate_list"

    def delete(self, instance):
        certificate_delete(actor=self.request.user, certificate=instance)


class ApplianceCertificatesView(LoginRequiredMixin, DetailView):
    """One appliance's inventory (what it holds) next to what it serves."""

    model = Appliance
    template_name = "certificates/appliance_certificates.html"
    context_object_name = "appliance"

    def get_queryset(self):
        return Appliance.objects.for_user(self.request.user).select_related("organization")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        appliance = self.object
        context.update(
            certificates=with_warnings(certificate_list(user=self.request.user).filter(appliance=appliance)),
            served=ServedCertificate.objects.filter(appliance=appliance),
            can_operate=has_role(self.request.user, appliance.organization_id, Role.OPERATOR),
            can_admin=has_role(self.request.user, appliance.organization_id, Role.ADMIN),
        )
        return context


class ObjectActionView(LoginRequiredMixin, View):
    """POST-only operator action on one object: 404 outside the caller's organisations, then the role check."""

    model = None
    required_role = Role.OPERATOR
    http_method_names = ["post"]

    def post(self, request, pk):
        obj = get_object_or_404(self.model.objects.for_user(request.user), pk=pk)
        require_role(request.user, obj.organization_id, self.required_role)
        try:
            message = self.perform(obj)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, message)
        return HttpResponseRedirect(self.success_url(obj))

    def perform(self, obj) -> str:
        raise NotImplementedError

    def success_url(self, obj) -> str:
        return obj.get_absolute_url()


class CertificateSetDefaultView(ObjectActionView):
    model = Certificate
    required_role = Role.ADMIN

    def perform(self, certificate):
        certificate_set_default(actor=self.request.user, certificate=certificate)
        return f"{certificate} is now the default certificate of {certificate.appliance}."


class ApplianceSyncView(ObjectActionView):
    model = Appliance

    def perform(self, appliance):
        result = certificate_inventory_sync(actor=self.request.user, appliance=appliance)
        skipped = f" Skipped: {'; '.join(result.skipped)}." if result.skipped else ""
        return (f"Read {len(result.created) + len(result.updated)} certificate(s) from {appliance} "
                f"({len(result.created)} new).{skipped}")

    def success_url(self, appliance):
        return appliance_certificates_url(appliance)


class ApplianceCheckView(ObjectActionView):
    model = Appliance

    def perform(self, appliance):
        observations = appliance_certificates_check(appliance=appliance)
        failed = [o for o in observations if not o.ok]
        if failed:
            return f"Checked {appliance}; could not read: {failed[0].error}"
        return f"Checked the certificate {appliance} serves."

    def success_url(self, appliance):
        return appliance_certificates_url(appliance)


def appliance_certificates_url(appliance) -> str:
    return reverse("certificates:appliance_certificates", args=[appliance.pk])


