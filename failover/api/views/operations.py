"""Operations, sync history, backup settings and best-practice findings over REST."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from portal.api.viewsets import Role, TenantReadOnlyViewSet, TenantViewSetMixin

from ...filtersets import OperationFilterSet, SyncRecordFilterSet
from ...models import BackupSettings, Operation, SyncRecord
from ...services.advice import advice_list
from ...services.operations import operation_cancel, operation_confirm
from ...services.pairs import backup_settings_refresh, backup_settings_update
from ..serializers import (
    ActionRequestSerializer,
    BackupSettingsSerializer,
    FindingSerializer,
    OperationSerializer,
    SyncRecordSerializer,
)


class OperationViewSet(TenantReadOnlyViewSet):
    queryset = Operation.objects.all()
    serializer_class = OperationSerializer
    filterset_class = OperationFilterSet
    select_related = ("requested_by",)
    prefetch_related = ("steps",)
    ordering_fields = ["created_at", "finished_at"]
    action_roles = {"confirm": Role.OPERATOR, "cancel": Role.OPERATOR}

    @extend_schema(request=None, responses={200: OperationSerializer},
                   summary="Tell the portal a guided step was done on the appliance (it verifies, then carries on)")
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        operation = operation_confirm(actor=request.user, operation=self.get_object())
        return Response(OperationSerializer(operation, context={"request": request}).data)

    @extend_schema(request=ActionRequestSerializer, responses={200: OperationSerializer},
                   summary="Cancel a pending operation or one waiting for the operator")
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        body = ActionRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        operation = operation_cancel(actor=request.user, operation=self.get_object(),
                                     reason=body.validated_data.get("reason", ""))
        return Response(OperationSerializer(operation, context={"request": request}).data)


class SyncRecordViewSet(TenantReadOnlyViewSet):
    queryset = SyncRecord.objects.all()
    serializer_class = SyncRecordSerializer
    filterset_class = SyncRecordFilterSet
    ordering_fields = ["started_at"]


class BackupSettingsViewSet(mixins.UpdateModelMixin, TenantReadOnlyViewSet):
    """Per-appliance backup settings (used only while the appliance is backup; not synchronised). Saving applies
    them on the appliance first; nothing is saved when the appliance refuses."""

    queryset = BackupSettings.objects.all()
    serializer_class = BackupSettingsSerializer
    select_related = ("appliance",)
    filterset_fields = ["appliance"]
    action_roles = {"refresh": Role.ADMIN}

    def perform_update(self, serializer):
        serializer.instance = backup_settings_update(
            actor=self.request.user, backup_settings=serializer.instance, data=dict(serializer.validated_data)
        )

    @extend_schema(request=None, responses={200: BackupSettingsSerializer},
                   summary="Read the settings in force on the appliance")
    @action(detail=True, methods=["post"])
    def refresh(self, request, pk=None):
        row = backup_settings_refresh(actor=request.user, appliance=self.get_object().appliance)
        return Response(BackupSettingsSerializer(row).data)


class AdviceViewSet(TenantViewSetMixin, viewsets.ViewSet):
    """Best-practice findings across the caller's pairs, filterable by organization, code, severity and q."""

    serializer_class = FindingSerializer

    @extend_schema(responses={200: FindingSerializer(many=True)})
    def list(self, request):
        params = request.query_params
        organization = None
        if params.get("organization", "").isdigit():
            from portal.models import Organization

            organization = Organization.objects.for_user(request.user).filter(pk=params["organization"]).first()
            if organization is None:
                return Response([])
        findings = advice_list(user=request.user, organization=organization, code=params.get("code", ""),
                               severity=params.get("severity", ""), q=params.get("q", ""))
        return Response(FindingSerializer(findings, many=True).data)
