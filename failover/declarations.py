"""Settings the vendor API can neither read nor write (an appliance's backup settings, its shared-IP selection):
what a person must do on the appliance to apply what was declared in the portal. One place for the wording, used
by the pages, the API and the messages after saving."""

from __future__ import annotations


def _interval(seconds: int) -> str:
    if not seconds:
        return "never (no automatic syncs)"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min" if seconds >= 3600 else f"{seconds // 60} min"


def backup_settings_steps(settings_row) -> list[str]:
    appliance = settings_row.appliance
    ips = ", ".join(settings_row.connectivity_test_ips or []) or "none"
    bandwidth = f"{settings_row.bandwidth_limit} kbit/s" if settings_row.bandwidth_limit else "unlimited"
    return [
        f"Sign in to /login on {appliance.name} ({appliance.management_host}) and open Management > Failover > "
        "Backup Settings.",
        f"Enable Backup Operations: {'on' if settings_row.enable_backup_operations else 'off'}.",
        f"Automatic Data-Sync Interval: {_interval(settings_row.sync_interval)}.",
        f"Data-Sync Bandwidth Limit: {bandwidth}.",
        f"Enable Automatic Failover (to this backup site instance): "
        f"{'on' if settings_row.automatic_failover else 'off'}.",
        f"Primary Site Instance Timeout: {settings_row.primary_timeout} seconds.",
        f"Network Connectivity Test IPs: {ips}.",
        "Save. The vendor API cannot read these settings back, so the portal shows them as declared, not applied.",
    ]


def shared_ips_steps(appliance, ips: list[str]) -> list[str]:
    chosen = ", ".join(ips) or "none"
    return [
        f"Sign in to /login on {appliance.name} ({appliance.management_host}) and open Management > Failover.",
        f"Under the shared IP selection, select exactly: {chosen} (each must be an address of the appliance, on the "
        "same subnet as on its peer).",
        "Save, then do the same on the peer: the setting is per appliance and is not copied.",
        "The portal cannot write this selection: it is declared here. The probes show the shared IPs the primary "
        "really has enabled.",
    ]
