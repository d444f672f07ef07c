from dataclasses import asdict

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from portal.api.viewsets import Role, TenantModelViewSet, crud_action_roles

from ..connection import appliance_test_connection
from ..filtersets import ApplianceFilterSet
from ..models import Appliance, ApplianceAddress
from ..selectors import appliances_for_listing, with_probe_status
from ..services import (
    INVENTORY_ROLES,
    address_create,
    address_delete,
    address_update,
    appliance_create,
    appliance_delete,
    appliance_update,
)
from .serializers import ApplianceAddressSerializer, ApplianceListSerializer, ApplianceSerializer


class ConnectionReportSerializer(serializers.Serializer):
    reachable = serializers.BooleanField()
    authenticated = serializers.BooleanField(allow_null=True)
    api_version = serializers.CharField()
    command_access = serializers.CharField()
    can_backup = serializers.BooleanField(allow_null=True)
    probe_account_access = serializers.CharField()
    clock_skew_seconds = serializers.FloatField(allow_null=True)
    version = serializers.CharField()
    build = serializers.CharField()
    role = serializers.CharField()
    extension_actions = serializers.ListField(child=serializers.CharField(), allow_null=True)
    plain_health = serializers.CharField()
    can = serializers.ListField(child=serializers.CharField())
    cannot = serializers.ListField(child=serializers.CharField())
    problems = serializers.ListField(child=serializers.CharField())
    checked_at = serializers.DateTimeField()


class ApplianceViewSet(TenantModelViewSet):
    queryset = Appliance.objects.all()
    serializer_class = ApplianceSerializer
    filterset_class = ApplianceFilterSet
    select_related = ("organization",)
    prefetch_related = ("addresses",)
    ordering_fields = ["name", "status_checked_at", "management_host"]
    action_roles = {**crud_action_roles(INVENTORY_ROLES), "test_connection": Role.OPERATOR}

    def get_queryset(self):
        queryset = with_probe_status(super().get_queryset())
        return appliances_for_listing(queryset) if self.action == "list" else queryset

    def get_serializer_class(self):
        return ApplianceListSerializer if self.action == "list" else ApplianceSerializer

    def perform_create(self, serializer):
        self.require_role_on(serializer.validated_data["organization"])
        serializer.instance = appliance_create(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = appliance_update(
            actor=self.request.user, appliance=serializer.instance, data=serializer.validated_data
        )

    def perform_destroy(self, instance):
        appliance_delete(actor=self.request.user, appliance=instance)

    @extend_schema(request=None, responses={200: ConnectionReportSerializer},
                   summary="Test connection: API version, permissions, clock skew and what the portal can do")
    @action(detail=True, methods=["post"], url_path="test-connection")
    def test_connection(self, request, pk=None):
        report = appliance_test_connection(actor=request.user, appliance=self.get_object())
        return Response(ConnectionReportSerializer(asdict(report)).data)


class ApplianceAddressViewSet(TenantModelViewSet):
    queryset = ApplianceAddress.objects.all()
    serializer_class = ApplianceAddressSerializer
    select_related = ("appliance",)
    filterset_fields = ["appliance", "kind", "enabled"]
    action_roles = crud_action_roles(INVENTORY_ROLES)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        appliance = data.pop("appliance")
        self.require_role_on(appliance.organization_id)
        serializer.instance = address_create(actor=self.request.user, appliance=appliance, **data)

    def perform_update(self, serializer):
        data = {k: v for k, v in serializer.validated_data.items() if k != "appliance"}
        serializer.instance = address_update(actor=self.request.user, address=serializer.instance, data=data)

    def perform_destroy(self, instance):
        address_delete(actor=self.request.user, address=instance)
