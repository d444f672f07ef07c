"""Serializers of the failover API: pairs, backup settings, operations, syncs, findings and action requests.

Shared module: the pair/operation part below; other areas add their own serializers in their own section.
"""

from rest_framework import serializers

from appliances.api.serializers import ApplianceSummarySerializer
from appliances.models import Appliance
from portal.api.fast import FastRepresentation
from portal.api.fields import TenantRelatedField
from portal.api.serializers import TenantModelSerializer
from portal.models import Alert, AlertStatus, Role

from ..declarations import backup_settings_steps
from ..models import (
    BackupSettings,
    Operation,
    OperationStep,
    Pair,
    PairStateChange,
    Provenance,
    StatusChange,
    SyncRecord,
)
from ..services.pairs import BACKUP_SETTINGS_FIELDS, PAIR_EDITABLE_FIELDS

# -- pairs and operations -----------------------------------------------------------------------------------


# What the portal and the probes maintain: shown, never written through the API.
PAIR_READ_ONLY_FIELDS = ["established_at", "broken_at", "last_status_check_at", "last_sync_at", "next_sync_at",
                         "state", "state_since", "state_reason", "epoch"]


class PairSerializer(TenantModelSerializer):
    primary = TenantRelatedField(queryset=Appliance.objects.all(), role=Role.ADMIN, help_text="The normal primary.")
    backup = TenantRelatedField(queryset=Appliance.objects.all(), role=Role.ADMIN, help_text="The normal backup.")
    dns_tsig_secret = serializers.CharField(
        write_only=True, required=False, allow_blank=True, style={"input_type": "password"},
        help_text="Write-only; stored encrypted, never returned. Omit or leave empty to keep the stored one.",
    )
    primary_member = ApplianceSummarySerializer(source="primary", read_only=True)
    backup_member = ApplianceSummarySerializer(source="backup", read_only=True)
    url = serializers.HyperlinkedIdentityField(view_name="failover-api:pair-detail")

    class Meta:
        model = Pair
        fields = ["id", "url", "organization", *PAIR_EDITABLE_FIELDS, "primary_member", "backup_member",
                  *PAIR_READ_ONLY_FIELDS, "created_at", "updated_at"]
        read_only_fields = PAIR_READ_ONLY_FIELDS
        # Uniqueness is checked by the service's full_clean (the constraints include the organisation).
        validators = []


class PairListSerializer(FastRepresentation, PairSerializer):
    """A pair in a list: the same fields, rendered by ``FastRepresentation``."""


class OperationStepSerializer(serializers.ModelSerializer):
    class Meta:
        model = OperationStep
        fields = ["index", "name", "description", "status", "started_at", "finished_at", "detail"]


class OperationSerializer(FastRepresentation, serializers.ModelSerializer):
    steps = OperationStepSerializer(many=True, read_only=True)
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    url = serializers.HyperlinkedIdentityField(view_name="failover-api:operation-detail")

    class Meta:
        model = Operation
        fields = [
            "id", "url", "organization", "pair", "appliance", "kind", "status", "params", "reason", "requested_by",
            "idempotency_key", "epoch", "created_at", "started_at", "finished_at", "heartbeat_at", "attempts",
            "error", "result", "steps",
        ]
        read_only_fields = fields


class SyncRecordSerializer(serializers.ModelSerializer):
    duration_seconds = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = SyncRecord
        fields = ["id", "organization", "pair", "operation", "trigger", "started_at", "finished_at",
                  "duration_seconds", "bytes_transferred", "result", "message"]
        read_only_fields = fields


class BackupSettingsSerializer(serializers.ModelSerializer):
    def get_apply_steps(self, obj) -> list[str]:
        return backup_settings_steps(obj) if obj.provenance == Provenance.DECLARED else []

    connectivity_test_ips = serializers.ListField(child=serializers.IPAddressField(), required=False,
                                                  help_text="IP addresses the backup must reach before failing over.")

    provenance = serializers.CharField(read_only=True, help_text="read (from the appliance), declared (by an "
                                       "admin: apply it on the appliance by hand) or unknown (never read or declared)")
    declared_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    apply_steps = serializers.SerializerMethodField(help_text="For declared settings: how to apply them.")

    class Meta:
        model = BackupSettings
        fields = ["id", "organization", "appliance", *BACKUP_SETTINGS_FIELDS, "provenance", "read_from_appliance_at",
                  "declared_at", "declared_by", "apply_steps", "updated_at"]
        read_only_fields = ["organization", "appliance", "read_from_appliance_at", "declared_at", "updated_at"]
        extra_kwargs = {
            "primary_timeout": {"help_text": "Seconds (30 to 86400) the primary must be unreachable before "
                                             "automatic failover."},
            "sync_interval": {"help_text": "Seconds between automatic syncs: 0 (off) or 300 to 604800."},
            "bandwidth_limit": {"help_text": "kbit/s for data syncs (0 to 10,000,000); 0 means unlimited."},
        }


class FindingSerializer(FastRepresentation, serializers.Serializer):
    code = serializers.CharField()
    severity = serializers.CharField()
    title = serializers.CharField()
    why = serializers.CharField()
    fix = serializers.CharField()
    pair = serializers.IntegerField(source="pair_id")
    site_hostname = serializers.CharField()
    organization = serializers.IntegerField(source="organization_id")
    since = serializers.DateTimeField(help_text="When the rule was first seen broken for this pair.")


class AdviceGroupSerializer(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()
    severity = serializers.CharField()
    count = serializers.IntegerField(help_text="Pairs with this finding.")


# Action requests.

class ActionRequestSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500,
                                   help_text="Why: recorded in the audit log with who asked.")


class RoleChangeRequestSerializer(ActionRequestSerializer):
    appliance = serializers.IntegerField(
        help_text="The pair member to act on (the side whose role changes, as on its own failover page)."
    )
    sync_first = serializers.BooleanField(
        default=False, help_text="Pull a data sync before swapping; users are disconnected until the swap completes."
    )
    force = serializers.BooleanField(
        default=False, help_text="Become backup even if the peer cannot be contacted (become backup only)."
    )


class EstablishRequestSerializer(ActionRequestSerializer):
    key_fingerprint = serializers.CharField(
        required=False, allow_blank=True, max_length=100,
        help_text="SHA-256 fingerprint of the inter-appliance key (never the key itself), checked against both.",
    )
    guided = serializers.BooleanField(default=False, help_text="Do it by hand on the appliance, verified by the portal.")


class SharedIpsRequestSerializer(serializers.Serializer):
    appliance = serializers.IntegerField(help_text="The pair member whose shared IPs are set.")
    ips = serializers.ListField(child=serializers.IPAddressField(), allow_empty=True)
    prefix_length = serializers.IntegerField(default=24, min_value=0, max_value=128)


class SharedIpsResultSerializer(serializers.Serializer):
    warnings = serializers.ListField(child=serializers.CharField())


class EstablishCheckSerializer(serializers.Serializer):
    name = serializers.CharField()
    ok = serializers.BooleanField(allow_null=True)
    message = serializers.CharField()


# -- status, history and alerts (read-only) ------------------------------------------------------------


class ApplianceProbeStatusSerializer(ApplianceSummarySerializer):
    """The status endpoint adds how the appliance is probed and the anti-flap counter."""

    consecutive_failures = serializers.IntegerField(source="status_failures", read_only=True)

    class Meta(ApplianceSummarySerializer.Meta):
        fields = [*ApplianceSummarySerializer.Meta.fields, "probe_interval", "probe_timeout",
                  "consecutive_failures", "next_probe_at"]
        read_only_fields = fields


class StatusChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = StatusChange
        fields = ["id", "organization", "appliance", "at", "reachable", "healthy", "role", "last_sync_status",
                  "error", "summary"]
        read_only_fields = fields


class PairStatusSerializer(serializers.ModelSerializer):
    primary = ApplianceSummarySerializer(read_only=True)
    backup = ApplianceSummarySerializer(read_only=True)

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


class AlertSerializer(FastRepresentation, serializers.ModelSerializer):
    # The alert's scope and target (portal.models.Alert, links named in the apps' ready()), as ids.
    pair = serializers.IntegerField(source="pair_id", read_only=True, allow_null=True)
    appliance = serializers.IntegerField(source="appliance_id", read_only=True, allow_null=True)
    status = serializers.ChoiceField(choices=AlertStatus.choices, read_only=True)
    acknowledged_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Alert
        fields = ["id", "organization", "kind", "severity", "status", "pair", "appliance", "dedup_key", "subject",
                  "body", "labels", "recipients", "created_at", "firing_since", "sent_at", "delivery_error",
                  "acknowledged_at", "acknowledged_by", "resolved_at", "suppressed_reason", "escalated_at"]
        read_only_fields = fields
