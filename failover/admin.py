from django.contrib import admin

from .models import (
    ApplianceProbeLocations,
    BackupSettings,
    LocationStatus,
    Operation,
    OperationStep,
    Pair,
    ProbeLocation,
    ProbeSettings,
    SyncRecord,
)


@admin.register(Pair)
class PairAdmin(admin.ModelAdmin):
    list_display = ("site_hostname", "organization", "primary", "backup", "network_method", "state")
    list_filter = ("organization", "state", "network_method")
    search_fields = ("site_hostname",)
    exclude = ("dns_tsig_secret",)


@admin.register(BackupSettings)
class BackupSettingsAdmin(admin.ModelAdmin):
    list_display = ("appliance", "enable_backup_operations", "automatic_failover", "sync_interval", "primary_timeout")


class OperationStepInline(admin.TabularInline):
    model = OperationStep
    extra = 0


@admin.register(Operation)
class OperationAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "pair", "status", "requested_by", "created_at")
    list_filter = ("kind", "status")
    inlines = [OperationStepInline]


@admin.register(SyncRecord)
class SyncRecordAdmin(admin.ModelAdmin):
    list_display = ("pair", "trigger", "started_at", "finished_at", "result")



@admin.register(ProbeLocation)
class ProbeLocationAdmin(admin.ModelAdmin):
    """Platform operators add locations here (the name is the queue suffix: probes.<name>)."""

    list_display = ("name", "description", "isolated_since", "isolation_reason", "last_report_at")
    readonly_fields = ("isolated_since", "isolation_reason", "last_report_at")


@admin.register(ProbeSettings)
class ProbeSettingsAdmin(admin.ModelAdmin):
    list_display = ("organization", "locations", "quorum")


@admin.register(ApplianceProbeLocations)
class ApplianceProbeLocationsAdmin(admin.ModelAdmin):
    list_display = ("appliance", "organization", "locations")


@admin.register(LocationStatus)
class LocationStatusAdmin(admin.ModelAdmin):
    list_display = ("appliance", "location", "status_reachable", "status_role", "status_checked_at")
    list_filter = ("location", "status_reachable")
