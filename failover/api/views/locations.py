"""REST for probe locations: each appliance's view from each location with the location's isolation (read-only),
an organisation's default locations and quorum, an appliance's override."""

from rest_framework import mixins, serializers

from appliances.models import Appliance
from portal.api.fields import TenantRelatedField
from portal.api.serializers import TenantModelSerializer
from portal.api.viewsets import TenantReadOnlyViewSet

from ...models import ApplianceProbeLocations, LocationStatus, ProbeSettings
from ...probing.locations import isolated_locations
from ...services.locations import (
    LOCATION_ROLES,
    MAX_LOCATIONS,
    appliance_probe_locations_set,
    probe_settings_set,
)


class LocationStatusSerializer(serializers.ModelSerializer):
    reachable = serializers.BooleanField(source="status_reachable", read_only=True, allow_null=True)
    healthy = serializers.BooleanField(source="status_healthy", read_only=True, allow_null=True)
    role = serializers.CharField(source="status_role", read_only=True)
    checked_at = serializers.DateTimeField(source="status_checked_at", read_only=True)
    latency_ms = serializers.FloatField(source="status_latency_ms", read_only=True, allow_null=True)
    error = serializers.CharField(source="status_error", read_only=True)
    consecutive_failures = serializers.IntegerField(source="status_failures", read_only=True)

    class Meta:
        model = LocationStatus
        fields = ["id", "organization", "appliance", "location", "reachable", "healthy", "role", "checked_at",
                  "latency_ms", "error", "consecutive_failures", "connectivity_ok", "connectivity_checked_at",
                  "location_isolated"]
        read_only_fields = fields

    location_isolated = serializers.SerializerMethodField(
        help_text="Why the location is isolated (its views set aside), or empty.")

    def get_location_isolated(self, status) -> str:
        # One query per response, not per row: the isolated locations are few and platform-wide.
        if "isolated" not in self.context:
            self.context["isolated"] = isolated_locations()
        return self.context["isolated"].get(status.location, "")


class ProbeSettingsSerializer(TenantModelSerializer):
    locations = serializers.ListField(child=serializers.CharField(max_length=40), max_length=MAX_LOCATIONS)

    class Meta:
        model = ProbeSettings
        fields = ["id", "organization", "locations", "quorum"]
        read_only_fields = ["id"]


class ApplianceProbeLocationsSerializer(serializers.ModelSerializer):
    locations = serializers.ListField(child=serializers.CharField(max_length=40), min_length=1,
                                      max_length=MAX_LOCATIONS)
    appliance = TenantRelatedField(queryset=Appliance.objects.all(), role=LOCATION_ROLES["configure"])

    class Meta:
        model = ApplianceProbeLocations
        fields = ["id", "organization", "appliance", "locations"]
        read_only_fields = ["id", "organization"]


class LocationStatusViewSet(TenantReadOnlyViewSet):
    queryset = LocationStatus.objects.all()
    serializer_class = LocationStatusSerializer
    filterset_fields = ["organization", "appliance", "location", "status_reachable"]


class ProbeSettingsViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, TenantReadOnlyViewSet):
    """An organisation's default probe locations and quorum (one row per organisation; POST creates or
    replaces it)."""

    queryset = ProbeSettings.objects.all()
    serializer_class = ProbeSettingsSerializer
    action_roles = {"create": LOCATION_ROLES["configure"], "update": LOCATION_ROLES["configure"],
                    "partial_update": LOCATION_ROLES["configure"]}

    def perform_create(self, serializer):
        organization = serializer.validated_data["organization"]
        self.require_role_on(organization)
        serializer.instance = probe_settings_set(actor=self.request.user, organization=organization,
                                                 locations=serializer.validated_data["locations"],
                                                 quorum=serializer.validated_data.get("quorum"))

    def perform_update(self, serializer):
        row = serializer.instance
        data = serializer.validated_data
        serializer.instance = probe_settings_set(actor=self.request.user, organization=row.organization_id,
                                                 locations=data.get("locations", row.locations),
                                                 quorum=data.get("quorum", row.quorum))


class ApplianceProbeLocationsViewSet(mixins.CreateModelMixin, mixins.DestroyModelMixin, TenantReadOnlyViewSet):
    """Per-appliance overrides of the organisation's default locations (POST sets, DELETE removes)."""

    queryset = ApplianceProbeLocations.objects.all()
    serializer_class = ApplianceProbeLocationsSerializer
    filterset_fields = ["organization", "appliance"]
    action_roles = {"create": LOCATION_ROLES["configure"], "destroy": LOCATION_ROLES["configure"]}

    def perform_create(self, serializer):
        appliance = serializer.validated_data["appliance"]
        self.require_role_on(appliance.organization)
        serializer.instance = appliance_probe_locations_set(actor=self.request.user, appliance=appliance,
                                                            locations=serializer.validated_data["locations"])

    def perform_destroy(self, instance):
        appliance_probe_locations_set(actor=self.request.user, appliance=instance.appliance, locations=[])
