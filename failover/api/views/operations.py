"""Operations, sync history, backup settings and best-practice findings over REST."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.settings import api_settings

from portal.api.viewsets import Role, TenantReadOnlyViewSet, TenantViewSetMixin

from ...advice_selectors import advice_groups, advice_list
from ...filtersets import OperationFilterSet, SyncRecordFilterSet
from ...forms import AdviceFilterForm
from ...models import BackupSettings, Operation, SyncRecord
from ...services.operations import operation_cancel, operation_confirm
from ...services.pairs import backup_settings_refresh, backup_settings_update
from ..serializers import (
    ActionRequestSerializer,
    AdviceGroupSerializer,
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
        operation_confirm(actor=request.user, operation=self.get_object())
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(request=ActionRequestSerializer, responses={200: OperationSerializer},
                   summary="Cancel a pending operation or one waiting for the operator")
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        operation = self.get_object()
        body = ActionRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        operation_cancel(actor=request.user, operation=operation, reason=body.validated_data.get("reason", ""))
        return Response(self.get_serializer(self.get_object()).data)


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
    """Best-practice findings across the caller's pairs, filterable by organization, code, severity and q (the
    web page's filter form: an unknown value is a 400 naming the field, never silently ignored). The stored
    findings, kept up to date on change; ``groups`` counts them by rule."""

    serializer_class = FindingSerializer
    pagination_class = api_settings.DEFAULT_PAGINATION_CLASS
    FILTERS = [OpenApiParameter("organization", OpenApiTypes.INT), OpenApiParameter("code", OpenApiTypes.STR),
               OpenApiParameter("severity", OpenApiTypes.STR), OpenApiParameter("q", OpenApiTypes.STR)]

    def _findings(self, request):
        form = AdviceFilterForm(request.query_params, user=request.user)
        if not form.is_valid():
            raise serializers.ValidationError({field: list(errors) for field, errors in form.errors.items()})
        filters = form.cleaned_data
        return advice_list(user=request.user, organization=filters["organization"], code=filters["code"],
                           severity=filters["severity"], q=filters["q"])

    @extend_schema(responses={200: FindingSerializer(many=True)},
                   parameters=[*FILTERS, OpenApiParameter("limit", OpenApiTypes.INT),
                               OpenApiParameter("offset", OpenApiTypes.INT)])
    def list(self, request):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(self._findings(request), request, view=self)
        return paginator.get_paginated_response(FindingSerializer(page, many=True).data)

    @extend_schema(responses={200: AdviceGroupSerializer(many=True)}, parameters=FILTERS,
                   summary="The findings counted by rule, the most severe and then the most frequent first")
    @action(detail=False, pagination_class=None)
    def groups(self, request):
        return Response(AdviceGroupSerializer(advice_groups(self._findings(request)), many=True).data)
