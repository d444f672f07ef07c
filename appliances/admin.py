from django.contrib import admin

from .models import Appliance, ApplianceAddress


class ApplianceAddressInline(admin.TabularInline):
    model = ApplianceAddress
    extra = 0
    fields = ("address", "prefix_length", "kind", "enabled")


@admin.register(Appliance)
class ApplianceAdmin(admin.ModelAdmin):
    list_display = ("name", "organization", "management_host", "product_version", "status_role", "status_reachable")
    list_filter = ("organization", "status_role", "status_reachable")
    search_fields = ("name", "management_host", "serial_number", "appliance_guid")
    # The secret is write-only everywhere, the admin included.
    exclude = ("client_secret",)
    readonly_fields = (
        "status_checked_at", "status_reachable", "status_healthy", "status_latency_ms", "status_role",
        "status_version", "status_shared_ips", "status_last_sync_at", "status_last_sync_status", "status_error",
    )
    inlines = [ApplianceAddressInline]
