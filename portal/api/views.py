from django.db import IntegrityError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from ..filtersets import AuditEventFilterSet, MembershipFilterSet, TenantFilterBackend
from ..models import AuditEvent, Membership, Organization
from ..services.organizations import (
    MEMBERSHIP_ROLES,
    membership_add,
    membership_change_role,
    membership_remove,
    organization_create,
)
from .serializers import (
    AuditEventSerializer,
    MembershipSerializer,
    OrganizationSerializer,
    UserSummarySerializer,
)
from .viewsets import TenantModelViewSet, TenantReadOnlyViewSet, crud_action_roles


class OrganizationViewSet(TenantModelViewSet):
    """Organisations the caller belongs to. Creating and deleting them is for platform operators."""

    queryset = Organization.objects.all()
    serializer_class = OrganizationSerializer
    filterset_fields = ["slug"]

    def perform_create(self, serializer):
        if not self.request.user.sees_all_organizations:
            raise PermissionDenied("Only platform operators create organisations.")
        serializer.instance = organization_create(actor=self.request.user, **serializer.validated_data)

    def perform_destroy(self, instance):
        if not self.request.user.sees_all_organizations:
            raise PermissionDenied("Only platform operators delete organisations.")
        super().perform_destroy(instance)


class MembershipViewSet(TenantModelViewSet):
    queryset = Membership.objects.all()
    serializer_class = MembershipSerializer
    filterset_class = MembershipFilterSet
    select_related = ("user", "organization")
    action_roles = crud_action_roles(MEMBERSHIP_ROLES)

    def perform_create(self, serializer):
        self.require_role_on(serializer.validated_data["organization"])
        try:
            serializer.instance = membership_add(actor=self.request.user, **serializer.validated_data)
        except IntegrityError as exc:
            raise serializers.ValidationError({"user": "This user is already a member."}) from exc

    def perform_update(self, serializer):
        serializer.instance = membership_change_role(
            actor=self.request.user, membership=serializer.instance, role=serializer.validated_data.get(
                "role", serializer.instance.role
            )
        )

    def perform_destroy(self, instance):
        membership_remove(actor=self.request.user, membership=instance)


class AuditEventViewSet(TenantReadOnlyViewSet):
    queryset = AuditEvent.objects.all()
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilterSet
    filter_backends = [TenantFilterBackend]


@extend_schema(responses=UserSummarySerializer)
@api_view(["GET"])
def me(request):
    """The caller, with their role in each organisation."""
    data = UserSummarySerializer(request.user).data
    data["is_platform_operator"] = request.user.sees_all_organizations
    data["memberships"] = [
        {"organization": m.organization_id, "organization_name": m.organization.name, "role": m.role}
        for m in Membership.objects.filter(user=request.user).select_related("organization")
    ]
    return Response(data)

