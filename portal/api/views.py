from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import api_view
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from ..filtersets import AuditEventFilterSet, MembershipFilterSet, TenantFilterBackend
from ..models import AuditEvent, Invitation, Membership, Organization
from ..services.invitations import invitation_create, invitation_revoke
from ..services.organizations import (
    MEMBERSHIP_ROLES,
    membership_change_role,
    membership_remove,
    organization_create,
)
from .serializers import (
    AuditEventSerializer,
    InvitationSerializer,
    MembershipSerializer,
    OrganizationSerializer,
    UserSummarySerializer,
)
from .viewsets import TenantModelViewSet, TenantReadOnlyViewSet, TenantViewSetMixin, crud_action_roles


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


class MembershipViewSet(TenantViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                        mixins.UpdateModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Members of the caller's organisations: read, change a role, remove. People join by invitation."""

    queryset = Membership.objects.all()
    serializer_class = MembershipSerializer
    filterset_class = MembershipFilterSet
    select_related = ("user", "organization")
    action_roles = crud_action_roles(MEMBERSHIP_ROLES)

    def perform_update(self, serializer):
        serializer.instance = membership_change_role(
            actor=self.request.user, membership=serializer.instance, role=serializer.validated_data.get(
                "role", serializer.instance.role
            )
        )

    def perform_destroy(self, instance):
        membership_remove(actor=self.request.user, membership=instance)


class InvitationViewSet(TenantViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                        mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Invitations of the caller's organisations (admins only). Creating one emails the link and answers it once
    in ``accept_url``; deleting one revokes it. The person accepts in the browser (``/invitations/<link>/``)."""

    queryset = Invitation.objects.all()
    serializer_class = InvitationSerializer
    # Inviting and revoking are the membership "create" right.
    action_roles = {"create": MEMBERSHIP_ROLES["create"], "destroy": MEMBERSHIP_ROLES["create"]}
    select_related = ("organization", "invited_by", "accepted_by")
    filterset_fields = ["organization", "email"]

    def get_queryset(self):
        return super().get_queryset().filter(organization__in=Organization.objects.for_user(
            self.request.user, role=MEMBERSHIP_ROLES["create"]))

    def perform_create(self, serializer):
        data = serializer.validated_data
        self.require_role_on(data["organization"])
        invitation, accept_url = invitation_create(
            actor=self.request.user, **data,
            accept_url_for=lambda secret: self.request.build_absolute_uri(reverse("portal:invitation_accept", args=[secret])),
        )
        invitation.accept_url = accept_url
        serializer.instance = invitation

    def perform_destroy(self, instance):
        invitation_revoke(actor=self.request.user, invitation=instance)


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

