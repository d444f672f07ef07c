"""Serializers of the failover API: pairs, backup settings, operations, syncs, findings and action requests.

Shared module: the pair/operation part below; other areas add their own serializers in their own section.
"""

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from appliances.api.serializers import ApplianceSummarySerializer
from appliances.models import Appliance
from portal.api.fast import FastRepresentation
from portal.api.fields import TenantRelatedField
from portal.api.serializers import TenantModelSerializer
from portal.models import Alert, AlertStatus, Organization, Role

from ..declarations import backup_settings_steps
from ..maintenance_selectors import (
    DEFAULT_RUNBOOK_WINDOW_MINUTES,
    MAX_WINDOW_MINUTES,
    MIN_RUNBOOK_WINDOW_MINUTES,
    evacuation_progress,
)
from ..models import (
    BackupSettings,
    ChangeLogEntry,
    Evacuation,
    EvacuationDirection,
    EvacuationItem,
    MaintenanceWindow,
    Operation,
    OperationKind,
    OperationStep,
    Pair,
    PairStateChange,
    Provenance,
    StatusChange,
    StepStatus,
    SyncRecord,
    WindowState,
)
from ..services.evacuations import EVACUATION_ROLE
from ..services.operations import UPGRADE_METHODS
from ..services.pairs import BACKUP_SETTINGS_FIELDS, PAIR_EDITABLE_FIELDS
from ..services.windows import WINDOW_ROLE

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

    # Read from the members' probe-status rows (Pair.last_status_check_at), no longer a column.
    last_status_check_at = serializers.DateTimeField(read_only=True, allow_null=True)

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
    next_probe_at = serializers.DateTimeField(read_only=True, allow_null=True)

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
    # Read from the members' probe-status rows (Pair.last_status_check_at), no longer a column.
    last_status_check_at = serializers.DateTimeField(read_only=True, allow_null=True)

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


# -- runbooks, maintenance windows and evacuations ---------------------------------------------------------


class RunbookStartRequestSerializer(ActionRequestSerializer):
    """A runbook's inputs. The service checks them per kind (the one question of unplanned maintenance must be
    answered, never defaulted; an upgrade names its path)."""

    kind = serializers.ChoiceField(choices=[(kind, OperationKind(kind).label) for kind in OperationKind.runbooks()])
    window_minutes = serializers.IntegerField(
        required=False, allow_null=True, min_value=MIN_RUNBOOK_WINDOW_MINUTES, max_value=MAX_WINDOW_MINUTES,
        help_text="Length of the maintenance window the runbook opens for the appliance it takes out of service "
                  f"(default {DEFAULT_RUNBOOK_WINDOW_MINUTES}).")
    login_changed = serializers.BooleanField(
        required=False, allow_null=True, default=None,
        help_text="Unplanned maintenance only, and required there: have /login settings changed since the last data "
                  "sync? false runs flow 1, true flow 2 (changes re-applied after the swap back).")
    method = serializers.ChoiceField(choices=UPGRADE_METHODS, required=False,
                                     help_text="Pair upgrade only, and required there (reference §6).")

    def params(self) -> dict:
        """What the service is given: only the inputs the caller sent (the service refuses those a kind does not
        take, with the field named)."""
        data = self.validated_data
        return {name: data[name] for name in ("window_minutes", "login_changed", "method")
                if data.get(name) is not None}


class ChangeLogEntrySerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = ChangeLogEntry
        fields = ["id", "text", "author", "created_at"]
        read_only_fields = ["id", "author", "created_at"]
        extra_kwargs = {"text": {"help_text": "The /login change: what, where, the new value."}}


class RunbookNextSerializer(serializers.Serializer):
    """The step waiting for a person: what to do, and whether confirming it is what the portal waits for."""

    name = serializers.CharField()
    description = serializers.CharField()
    instructions = serializers.CharField(source="detail")
    confirmed_at = serializers.DateTimeField(allow_null=True)


class RunbookSerializer(OperationSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="failover-api:runbook-detail")
    waiting_for = serializers.SerializerMethodField(
        help_text="The guided step or checkpoint waiting for a person (POST confirm once done), or null.")
    change_log = ChangeLogEntrySerializer(many=True, read_only=True)
    maintenance_windows = serializers.PrimaryKeyRelatedField(many=True, read_only=True,
                                                             help_text="Windows this runbook opened.")

    class Meta(OperationSerializer.Meta):
        fields = [*OperationSerializer.Meta.fields, "waiting_for", "change_log", "maintenance_windows"]
        read_only_fields = fields

    @extend_schema_field(RunbookNextSerializer(allow_null=True))
    def get_waiting_for(self, operation):
        # From the prefetched steps: no query per runbook in a list.
        waiting = [step for step in operation.steps.all() if step.status == StepStatus.WAITING]
        return RunbookNextSerializer(waiting[0]).data if waiting and operation.is_active else None


class MaintenanceWindowSerializer(serializers.ModelSerializer):
    """A window covers a pair or one appliance (exactly one of the two)."""

    pair = TenantRelatedField(queryset=Pair.objects.all(), role=WINDOW_ROLE, required=False, allow_null=True)
    appliance = TenantRelatedField(queryset=Appliance.objects.all(), role=WINDOW_ROLE, required=False,
                                   allow_null=True)
    covers = serializers.CharField(read_only=True)
    is_open = serializers.SerializerMethodField(help_text="Open now (started, not ended, not closed).")
    state = serializers.ChoiceField(choices=WindowState.choices, read_only=True,
                                    help_text="scheduled, open, ended (its end passed) or closed (ended early).")
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    url = serializers.HyperlinkedIdentityField(view_name="failover-api:maintenancewindow-detail")

    class Meta:
        model = MaintenanceWindow
        fields = ["id", "url", "organization", "pair", "appliance", "covers", "starts_at", "ends_at", "closed_at",
                  "is_open", "state", "reason", "operation", "created_by", "created_at"]
        read_only_fields = ["organization", "closed_at", "operation", "created_at"]

    def get_is_open(self, window) -> bool:
        return window.is_open_at(timezone.now())


class EvacuationItemSerializer(serializers.ModelSerializer):
    site = serializers.CharField(source="pair.site_hostname", read_only=True)

    class Meta:
        model = EvacuationItem
        fields = ["position", "pair", "site", "source", "target", "status", "operation", "detail"]
        read_only_fields = fields


class EvacuationBlockedSerializer(serializers.Serializer):
    pair = serializers.IntegerField()
    site = serializers.CharField()
    reason = serializers.CharField()


class EvacuationSerializer(TenantModelSerializer):
    organization = TenantRelatedField(queryset=Organization.objects.all(), role=EVACUATION_ROLE)
    direction = serializers.ChoiceField(choices=EvacuationDirection.choices, default=EvacuationDirection.EVACUATE,
                                        help_text="evacuate the location, or return the pairs its last evacuation "
                                                  "moved")
    location = serializers.CharField(max_length=100)
    blocked = EvacuationBlockedSerializer(many=True, read_only=True, help_text="Pairs that cannot move, and why.")
    progress = serializers.SerializerMethodField(help_text="How many pairs are in each item status.")
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    url = serializers.HyperlinkedIdentityField(view_name="failover-api:evacuation-detail")

    class Meta:
        model = Evacuation
        fields = ["id", "url", "organization", "location", "direction", "status", "concurrency",
                  "stop_after_failures", "returning", "blocked", "progress", "stop_reason", "created_by",
                  "created_at", "started_at", "finished_at"]
        read_only_fields = ["status", "returning", "stop_reason", "created_at", "started_at", "finished_at"]

    @extend_schema_field(serializers.DictField(child=serializers.IntegerField()))
    def get_progress(self, evacuation) -> dict:
        return evacuation_progress(evacuation)


class EvacuationDetailSerializer(EvacuationSerializer):
    """One evacuation with its pairs in order: each one's switchover operation and outcome."""

    items = EvacuationItemSerializer(many=True, read_only=True)

    class Meta(EvacuationSerializer.Meta):
        fields = [*EvacuationSerializer.Meta.fields, "items"]
