"""Reads of the appliance inventory, always through the tenancy chokepoint."""

from datetime import timedelta

from django.db.models import Count, Exists, F, Max, OuterRef, Q
from django.db.models.functions import Length
from django.utils import timezone

from .models import Appliance, BackupPolicy, BackupStatus, ConfigurationBackup

#: Appliance columns no page or endpoint shows. Deferred wherever rows are loaded for display: an encrypted
#: column is decrypted when its row is loaded, and status panels are polled every few seconds.
APPLIANCE_UNSHOWN_FIELDS = ("client_secret", "probe_client_secret", "backup_password", "ca_bundle", "tls_pin")


def appliance_unshown_fields(*relations: str) -> list[str]:
    """``APPLIANCE_UNSHOWN_FIELDS`` of the appliances reached through ``relations`` (none: the model's own)."""
    return [f"{relation}__{name}" if relation else name
            for relation in (relations or ("",)) for name in APPLIANCE_UNSHOWN_FIELDS]


#: Sort columns of appliance lists (``?ordering=``) that live in the narrow probe-status row.
PROBE_STATUS_SORTS = ("status_checked_at", "status_latency_ms")


def with_probe_status(queryset):
    """Appliances with their probe-status row (last check, latency, error, failures: ``Appliance`` reads them
    from it) in the same query, and the lists' sorts by those columns under their usual names. No index serves
    those sorts (a probe rewrites them: ``appliances.models.probe_status``); PostgreSQL scans the narrow table."""
    return queryset.select_related("probe_status").alias(
        **{name: F(f"probe_status__{name}") for name in PROBE_STATUS_SORTS})


def appliances_for_listing(queryset):
    """An API list's rows: the CA bundles left in the database (~1-4 KB a row, stored out of line; the detail
    shows them) and whether each secret is set read from its stored length, not by decrypting it."""
    secrets = ("client_secret", "probe_client_secret", "backup_password")
    return queryset.defer("ca_bundle", *secrets).annotate(**{f"{name}_length": Length(name) for name in secrets})


def appliance_list(*, user, organization=None):
    return (
        Appliance.objects.for_user(user)
        .in_organization(organization)
        .select_related("organization", "probe_status")
        .prefetch_related("addresses")
    )


def appliance_fleet_summary(*, user, organization=None) -> dict:
    return Appliance.objects.for_user(user).in_organization(organization).aggregate(
        total=Count("id"),
        reachable=Count("id", filter=Q(status_reachable=True)),
        unreachable=Count("id", filter=Q(status_reachable=False)),
        never_checked=Count("id", filter=Q(status_reachable__isnull=True)),
    )


# -- configuration backups -------------------------------------------------------------------------------


def backup_list(*, user, organization=None):
    return (
        ConfigurationBackup.objects.for_user(user)
        .in_organization(organization)
        .without_content()
        .select_related("appliance", "organization", "requested_by")
    )


def backups_of_appliance(*, user, appliance, limit: int = 10):
    return list(backup_list(user=user).filter(appliance=appliance)[:limit])


def backups_due(*, now=None) -> list[int]:
    """Ids of appliances whose scheduled backup is due: normal primaries of organisations with scheduled backups
    on (no policy row means the defaults: daily), with no good backup within the interval and no attempt in the
    last hour (a failing appliance is retried hourly, not on every beat tick)."""
    now = now or timezone.now()
    policies = {p.organization_id: p for p in BackupPolicy.objects.all()}
    recent_attempt = ConfigurationBackup.objects.filter(
        appliance=OuterRef("pk"), started_at__gte=now - timedelta(hours=1)
    )
    candidates = (
        Appliance.objects.filter(pairs_as_primary__isnull=False)
        .annotate(recently_tried=Exists(recent_attempt))
        .filter(recently_tried=False)
        .values_list("id", "organization_id")
        .distinct()
    )
    last_good = dict(
        ConfigurationBackup.objects.filter(status=BackupStatus.SUCCEEDED)
        .values("appliance_id")
        .annotate(latest=Max("started_at"))
        .values_list("appliance_id", "latest")
    )
    due = []
    for appliance_id, organization_id in candidates:
        policy = policies.get(organization_id) or BackupPolicy()
        if not policy.scheduled:
            continue
        latest = last_good.get(appliance_id)
        if latest is None or latest <= now - timedelta(hours=policy.interval_hours):
            due.append(appliance_id)
    return due
