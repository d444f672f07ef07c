"""Configuration backup pages: the list, the admin-only download, 'back up now', and the retention policy."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.views import View

from portal.http import attachment_response
from portal.views.generic import ObjectEditView, ObjectListView, TenantViewMixin

from ..backups import backup_policy_save, backup_read, backup_request
from ..filtersets import BackupFilterSet
from ..forms.backups import BackupPolicyForm
from ..models import Appliance, BackupPolicy, ConfigurationBackup


class BackupListView(ObjectListView):
    model = ConfigurationBackup
    filterset_class = BackupFilterSet
    select_related = ("appliance", "organization", "requested_by")
    table_template = "appliances/backups/backup_table.html"
    add_url_name = "appliances:backup_policy_add"
    extra_buttons_template = ""

    def get_base_queryset(self):
        return super().get_base_queryset().without_content()


class BackupDownloadView(TenantViewMixin, View):
    """Admins only, audited; another organisation's backup is a 404 (looked up through the chokepoint first)."""

    model = ConfigurationBackup

    def get(self, request, pk):
        backup = get_object_or_404(self.get_base_queryset().without_content().good(), pk=pk)
        try:
            blob = backup_read(actor=request.user, backup=backup)
        except ValueError as exc:
            raise PermissionDenied(str(exc)) from exc
        return attachment_response(blob, filename=backup_filename(backup), content_type="application/octet-stream")


def backup_filename(backup: ConfigurationBackup) -> str:
    # The appliance chose the name; attachment_response keeps only harmless characters of it.
    return f"{backup.started_at:%Y%m%d-%H%M}-{backup.filename or 'backup.nsb'}"


class BackupRequestView(TenantViewMixin, View):
    model = Appliance
    http_method_names = ["post"]

    def post(self, request, pk):
        appliance = get_object_or_404(self.get_base_queryset(), pk=pk)
        backup_request(actor=request.user, appliance=appliance)
        messages.success(request, f"A configuration backup of {appliance} was requested; it appears below when done.")
        return HttpResponseRedirect(appliance.get_absolute_url())


class BackupPolicyEditView(ObjectEditView):
    model = BackupPolicy
    form_class = BackupPolicyForm

    def save(self, form, instance):
        data = dict(form.cleaned_data)
        organization = instance.organization if instance else data.pop("organization")
        return backup_policy_save(actor=self.request.user, organization=organization, data=data)

    def get_success_url(self):
        return self.object.get_absolute_url()
