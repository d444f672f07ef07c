from rest_framework import serializers

from ..models import AuditEvent, Invitation, Membership, Organization, Role, User
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
        fields = ["id", "name", "slug", "alert_recipients", "outbound_allowed_networks", "created_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not user.sees_all_organizations:
            # The schema, generated without a user, shows the platform operators' view.
            for name in Organization.PLATFORM_OPERATOR_FIELDS:
                self.fields[name].read_only = True


class UserSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username", "email", "first_name", "last_name"]


class MembershipSerializer(serializers.ModelSerializer):
    """Members of the caller's organisations. Nobody is added here: people join by invitation."""

    user = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "organization", "user", "role", "created_at"]
        read_only_fields = ["organization"]


class InvitationSerializer(TenantModelSerializer):
    status = serializers.CharField(read_only=True)
    invited_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    accepted_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    accept_url = serializers.SerializerMethodField(
        help_text="The link to pass on, in the answer to the request that created the invitation only."
    )

    class Meta:
        model = Invitation
        fields = ["id", "organization", "email", "role", "status", "invited_by", "created_at", "expires_at",
                  "accepted_at", "accepted_by", "revoked_at", "accept_url"]
        read_only_fields = ["expires_at", "accepted_at", "revoked_at"]

    def get_accept_url(self, invitation) -> str | None:
        return getattr(invitation, "accept_url", None)


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
