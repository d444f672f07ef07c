"""REST for configuration backups: list/read (metadata only), the admin-only audited download, 'back up now',
and the organisation's backup policy (read and update)."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from portal.api.viewsets import TenantReadOnlyViewSet, TenantViewSetMixin
from portal.http import attachment_response
from portal.models import Role

from ..backups import POLICY_FIELDS, backup_policy_save, backup_read, backup_request
from ..filtersets import BackupFilterSet
from ..models import Appliance, BackupFailure, BackupPolicy, ConfigurationBackup
from ..views.backups import backup_filename


class ConfigurationBackupSerializer(serializers.ModelSerializer):
    appliance_name = serializers.CharField(source="appliance.name", read_only=True)
    download_url = serializers.HyperlinkedIdentityField(view_name="appliances-api:configurationbackup-download")
    # Empty unless the backup failed: the schema must say "" is a value too.
    failure_kind = serializers.ChoiceField(choices=BackupFailure.choices, read_only=True, allow_blank=True)

    class Meta:
        model = ConfigurationBackup
        fields = [
            "id", "organization", "appliance", "appliance_name", "status", "trigger", "started_at", "finished_at",
            "size_bytes", "sha256", "filename", "content_type", "with_logged_data", "source_appliance_guid", "source_hostname", "software_version",
            "software_build", "failure_kind", "failure_reason", "download_url",
        ]
        read_only_fields = fields


class ConfigurationBackupViewSet(TenantReadOnlyViewSet):
    queryset = ConfigurationBackup.objects.all()
    serializer_class = ConfigurationBackupSerializer
    filterset_class = BackupFilterSet
    select_related = ("appliance",)
    action_roles = {"download": Role.ADMIN}

    def get_queryset(self):
        return super().get_queryset().without_content()

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        backup = self.get_object()
        try:
            blob = backup_read(actor=request.user, backup=backup)
        except ValueError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc
        return attachment_response(blob, filename=backup_filename(backup), content_type="application/octet-stream")


class BackupRequestedSerializer(serializers.Serializer):
    detail = serializers.CharField(read_only=True)


class ApplianceBackupViewSet(TenantViewSetMixin, viewsets.GenericViewSet):
    """``POST /appliance-backups/{appliance id}/run/``: queue a backup now (202)."""

    queryset = Appliance.objects.all()
    serializer_class = BackupRequestedSerializer
    action_roles = {"run": Role.OPERATOR}

    @extend_schema(request=None, responses={202: BackupRequestedSerializer})
    @action(detail=True, methods=["post"])
    def run(self, request, pk=None):
        appliance = self.get_object()
        backup_request(actor=request.user, appliance=appliance)
        return Response({"detail": "Backup requested."}, status=status.HTTP_202_ACCEPTED)


class BackupPolicySerializer(serializers.ModelSerializer):
    class Meta:
        model = BackupPolicy
        fields = ["id", "organization", *POLICY_FIELDS, "updated_at"]
        read_only_fields = ["organization", "updated_at"]


class BackupPolicyViewSet(TenantViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                          mixins.UpdateModelMixin, viewsets.GenericViewSet):
    queryset = BackupPolicy.objects.all()
    serializer_class = BackupPolicySerializer
    select_related = ("organization",)

    def perform_update(self, serializer):
        serializer.instance = backup_policy_save(
            actor=self.request.user, organization=serializer.instance.organization, data=serializer.validated_data
        )
