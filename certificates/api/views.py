"""REST endpoints of the certificates app: thin over the same services and selectors as the pages."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from appliances.models import Appliance
from portal.api.viewsets import TenantReadOnlyViewSet, TenantViewSetMixin
from portal.http import attachment_response
from portal.models import Role

from ..filtersets import CertificateFilterSet
from ..models import Certificate, ServedCertificate
from ..selectors import certificate_list, with_warnings
from ..services import (
    certificate_delete,
    certificate_export,
    certificate_import,
    certificate_inventory_sync,
    certificate_set_default,
)
from ..services.export import EXPORT_CONTENT_TYPES
from .serializers import (
    CertificateExportSerializer,
    CertificateImportSerializer,
    CertificateSerializer,
    InventorySyncResultSerializer,
    ServedCertificateSerializer,
)


class CertificateViewSet(TenantViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                         mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """The inventory. ``POST`` imports a file; ``export`` returns it as PKCS#12 or PEM."""

    queryset = Certificate.objects.all()
    serializer_class = CertificateSerializer
    filterset_class = CertificateFilterSet
    ordering_fields = ["not_after", "friendly_name", "created_at"]
    action_roles = {"create": Role.ADMIN, "destroy": Role.ADMIN, "export": Role.VIEWER, "set_default": Role.ADMIN}

    def get_queryset(self):
        return certificate_list(user=self.request.user).order_by(*Certificate._meta.ordering)

    def get_serializer_class(self):
        return {"create": CertificateImportSerializer, "export": CertificateExportSerializer}.get(
            self.action, CertificateSerializer
        )

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = with_warnings(self.paginate_queryset(queryset))
        return self.get_paginated_response(CertificateSerializer(page, many=True).data)

    @extend_schema(request=CertificateImportSerializer, responses={201: CertificateSerializer})
    def create(self, request, *args, **kwargs):
        serializer = CertificateImportSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        self.require_role_on(data["appliance"].organization_id)
        certificate = certificate_import(actor=request.user, **data)
        return Response(CertificateSerializer(certificate).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        certificate_delete(actor=self.request.user, certificate=instance)

    @extend_schema(request=CertificateExportSerializer,
                   responses={(200, kind): OpenApiResponse(OpenApiTypes.BINARY) for kind in EXPORT_CONTENT_TYPES.values()})
    @action(detail=True, methods=["post"])
    def export(self, request, pk=None):
        certificate = self.get_object()
        serializer = CertificateExportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        exported = certificate_export(
            actor=request.user, certificate=certificate, export_format=data["format"],
            include_key=data["include_key"], include_chain=data["include_chain"], passphrase=data["passphrase"],
        )
        return attachment_response(exported.data, filename=exported.filename, content_type=exported.content_type)


    @extend_schema(request=None, responses={200: CertificateSerializer})
    @action(detail=True, methods=["post"], url_path="set-default")
    def set_default(self, request, pk=None):
        """Make this certificate the appliance's default (served without SNI)."""
        certificate = certificate_set_default(actor=request.user, certificate=self.get_object())
        return Response(CertificateSerializer(certificate).data)


class ServedCertificateViewSet(TenantReadOnlyViewSet):
    """The latest certificate each appliance served, per SNI choice."""

    queryset = ServedCertificate.objects.all()
    serializer_class = ServedCertificateSerializer
    filterset_fields = ["appliance", "server_name", "in_inventory"]


class ApplianceCertificatesViewSet(TenantViewSetMixin, viewsets.GenericViewSet):
    """Appliance-level certificate actions."""

    queryset = Appliance.objects.all()
    serializer_class = InventorySyncResultSerializer
    action_roles = {"sync": Role.OPERATOR}

    @extend_schema(request=None, responses={200: InventorySyncResultSerializer})
    @action(detail=True, methods=["post"])
    def sync(self, request, pk=None):
        """Read the certificates the appliance holds into its inventory."""
        result = certificate_inventory_sync(actor=request.user, appliance=self.get_object())
        return Response(InventorySyncResultSerializer({
            "created": len(result.created), "updated": len(result.updated), "gone": result.gone,
            "skipped": result.skipped,
        }).data)
