from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from portal.api.fast import FastRepresentation
from portal.api.fields import TenantRelatedField
from portal.api.serializers import TenantModelSerializer
from portal.models import Role

from ..models import Appliance, ApplianceAddress
from ..validators import validate_oauth_credential


class ApplianceAddressNestedSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApplianceAddress
        fields = ["id", "address", "prefix_length", "kind", "enabled"]


class ApplianceAddressSerializer(serializers.ModelSerializer):
    appliance = TenantRelatedField(queryset=Appliance.objects.all(), role=Role.ADMIN)

    class Meta:
        model = ApplianceAddress
        fields = ["id", "organization", "appliance", "address", "prefix_length", "kind", "enabled"]
        read_only_fields = ["organization"]


class ApplianceLatestStatusSerializer(serializers.ModelSerializer):
    checked_at = serializers.DateTimeField(source="status_checked_at", read_only=True, allow_null=True)
    reachable = serializers.BooleanField(source="status_reachable", read_only=True, allow_null=True)
    healthy = serializers.BooleanField(source="status_healthy", read_only=True, allow_null=True)
    latency_ms = serializers.FloatField(source="status_latency_ms", read_only=True, allow_null=True)
    role = serializers.CharField(source="status_role", read_only=True)
    version = serializers.CharField(source="status_version", read_only=True)
    shared_ips = serializers.ListField(source="status_shared_ips", child=serializers.CharField(), read_only=True)
    last_sync_at = serializers.DateTimeField(source="status_last_sync_at", read_only=True, allow_null=True)
    last_sync_status = serializers.CharField(source="status_last_sync_status", read_only=True)
    error = serializers.CharField(source="status_error", read_only=True)

    class Meta:
        model = Appliance
        fields = [
            "checked_at", "reachable", "healthy", "latency_ms", "role", "version", "shared_ips",
            "last_sync_at", "last_sync_status", "error",
        ]


class ApplianceSummarySerializer(serializers.ModelSerializer):
    """An appliance as other resources show it (a pair's members, the status endpoint): identity and the latest
    probe result, in the same shape as the appliance endpoint's ``status``."""

    status = ApplianceLatestStatusSerializer(source="*", read_only=True)

    class Meta:
        model = Appliance
        fields = ["id", "organization", "name", "management_host", "product_version", "build", "status"]
        read_only_fields = fields


class ApplianceSerializer(TenantModelSerializer):
    client_secret = serializers.CharField(
        write_only=True, required=False, allow_blank=True, style={"input_type": "password"},
        validators=[validate_oauth_credential],
        help_text="Write-only. Stored encrypted; never returned. Omit or leave empty to keep the stored one.",
    )
    has_client_secret = serializers.BooleanField(read_only=True)
    probe_client_secret = serializers.CharField(
        write_only=True, required=False, allow_blank=True, style={"input_type": "password"},
        help_text="Write-only: secret of the optional read-only account used for probing. Never returned.",
    )
    has_probe_client_secret = serializers.BooleanField(read_only=True)
    backup_password = serializers.CharField(
        write_only=True, required=False, allow_blank=True, style={"input_type": "password"},
        help_text="Write-only: the password of password-protected backups. Stored encrypted; never returned.",
    )
    has_backup_password = serializers.BooleanField(read_only=True)
    capability_profile = serializers.CharField(read_only=True,
                                               help_text="unknown (not read yet), vendor (vendor API only), extended")
    addresses = ApplianceAddressNestedSerializer(many=True, read_only=True)
    status = ApplianceLatestStatusSerializer(source="*", read_only=True)
    url = serializers.HyperlinkedIdentityField(view_name="appliances-api:appliance-detail")

    class Meta:
        model = Appliance
        fields = [
            "id", "url", "organization", "name", "management_host", "management_port", "location", "appliance_guid",
            "model",
            "serial_number", "product_version", "build", "site_hostname", "client_id", "client_secret",
            "has_client_secret", "probe_client_id", "probe_client_secret",
            "has_probe_client_secret", "backup_password", "has_backup_password", "capability_profile", "extension_actions",
            "capabilities_read_at", "ca_bundle", "tls_pin", "probe_interval", "probe_timeout", "addresses", "status",
            "created_at", "updated_at",
        ]
        # Uniqueness is checked by the service's full_clean (the constraints include the organisation).
        validators = []


class ApplianceListSerializer(FastRepresentation, ApplianceSerializer):
    """An appliance in a list: without its CA bundle (1-4 KB each; the detail endpoint shows it) and with
    ``has_client_secret`` (and the other two) from the stored column's length, so no row's secret is decrypted to
    list it (``appliances.selectors.appliances_for_listing``); rendered by ``FastRepresentation``."""

    has_client_secret = serializers.SerializerMethodField()
    has_probe_client_secret = serializers.SerializerMethodField()
    has_backup_password = serializers.SerializerMethodField()

    class Meta(ApplianceSerializer.Meta):
        fields = [name for name in ApplianceSerializer.Meta.fields if name != "ca_bundle"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_has_client_secret(self, appliance) -> bool:
        return bool(appliance.client_secret_length)

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_has_probe_client_secret(self, appliance) -> bool:
        return bool(appliance.probe_client_secret_length)

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_has_backup_password(self, appliance) -> bool:
        return bool(appliance.backup_password_length)
