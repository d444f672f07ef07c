"""Read-only REST for what the probe loop and the alert watch record: appliances' latest status and history,
pairs' derived state and history, alerts. Everything goes through the chokepoint (TenantReadOnlyViewSet)."""

from rest_framework import serializers

from appliances.models import Appliance
from portal.api.viewsets import TenantReadOnlyViewSet

from ...models import Alert, Pair, PairStateChange, StatusChange

APPLIANCE_STATUS_FIELDS = [
    "status_checked_at", "status_reachable", "status_healthy", "status_latency_ms", "status_role",
    "status_version", "status_shared_ips", "status_last_sync_at", "status_last_sync_status", "status_error",
    "status_failures", "next_probe_at",
]


class ApplianceStatusSerializer(serializers.ModelSerializer):
    class Meta:
        model = Appliance
        fields = ["id", "organization", "name", "management_host", "probe_interval", "probe_timeout",
                  *APPLIANCE_STATUS_FIELDS]
        read_only_fields = fields


class StatusChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = StatusChange
        fields = ["id", "organization", "appliance", "at", "reachable", "healthy", "role", "last_sync_status",
                  "error", "summary"]
        read_only_fields = fields


class PairStatusSerializer(serializers.ModelSerializer):
    primary = ApplianceStatusSerializer(read_only=True)
    backup = ApplianceStatusSerializer(read_only=True)

    class Meta:
        model = Pair
        fields = ["id", "organization", "site_hostname", "state", "state_since", "state_reason",
                  "primary_unreachable_since", "both_backup_since", "last_status_check_at", "last_sync_at",
                  "sync_stale_after", "primary", "backup"]
        read_only_fields = fields


class PairStateChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = PairStateChange
        fields = ["id", "organization", "pair", "at", "previous_state", "state", "reason"]
        read_only_fields = fields


class AlertSerializer(serializers.ModelSerializer):
    class Meta:
        model = Alert
        fields = ["id", "organization", "kind", "severity", "pair", "appliance", "dedup_key", "subject", "body",
                  "recipients", "created_at", "sent_at", "delivery_error"]
        read_only_fields = fields


class ApplianceStatusViewSet(TenantReadOnlyViewSet):
    queryset = Appliance.objects.all()
    serializer_class = ApplianceStatusSerializer
    filterset_fields = ["organization", "status_reachable", "status_healthy", "status_role"]
    ordering_fields = ["name", "status_checked_at", "status_latency_ms"]


class StatusChangeViewSet(TenantReadOnlyViewSet):
    queryset = StatusChange.objects.all()
    serializer_class = StatusChangeSerializer
    filterset_fields = {"organization": ["exact"], "appliance": ["exact"], "reachable": ["exact"],
                        "at": ["gte", "lte"]}


class PairStatusViewSet(TenantReadOnlyViewSet):
    queryset = Pair.objects.all()
    serializer_class = PairStatusSerializer
    select_related = ("primary", "backup")
    filterset_fields = ["organization", "state"]
    ordering_fields = ["site_hostname", "state_since", "last_status_check_at", "last_sync_at"]


class PairStateChangeViewSet(TenantReadOnlyViewSet):
    queryset = PairStateChange.objects.all()
    serializer_class = PairStateChangeSerializer
    filterset_fields = {"organization": ["exact"], "pair": ["exact"], "state": ["exact"], "at": ["gte", "lte"]}


class AlertViewSet(TenantReadOnlyViewSet):
    queryset = Alert.objects.all()
    serializer_class = AlertSerializer
    filterset_fields = {"organization": ["exact"], "kind": ["exact"], "severity": ["exact"], "pair": ["exact"],
                        "appliance": ["exact"], "created_at": ["gte", "lte"]}
