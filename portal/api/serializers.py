from rest_framework import serializers

from ..models import AuditEvent, Membership, Organization, Role, User
from .fields import TenantRelatedField


class TenantModelSerializer(serializers.ModelSerializer):
    """Base for tenant-owned rows: the organisation is chosen among the caller's and fixed after creation."""

    organization = TenantRelatedField(queryset=Organization.objects.all(), role=Role.ADMIN)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance is not None and not isinstance(self.instance, (list, tuple)) and hasattr(
            self.instance, "pk"
        ):
            self.fields["organization"].read_only = True


class OrganizationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "name", "slug", "alert_recipients", "created_at"]


class UserSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username", "email", "first_name", "last_name"]


class MembershipSerializer(TenantModelSerializer):
    user = serializers.SlugRelatedField(slug_field="username", queryset=User.objects.filter(is_active=True))

    class Meta:
        model = Membership
        fields = ["id", "organization", "user", "role", "created_at"]


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "organization",
            "actor_name",
            "action",
            "verb",
            "object_type",
            "object_id",
            "object_repr",
            "changes",
            "summary",
            "created_at",
        ]
