"""Reads of the appliance inventory, always through the tenancy chokepoint."""

from django.db.models import Count, Max, Q

from .models import Appliance

#: Appliance columns no page or endpoint shows. Deferred wherever rows are loaded for display: an encrypted
#: column is decrypted when its row is loaded, and status panels are polled every few seconds.
APPLIANCE_UNSHOWN_FIELDS = ("client_secret", "ca_bundle", "tls_pin")


def appliance_unshown_fields(*relations: str) -> list[str]:
    """``APPLIANCE_UNSHOWN_FIELDS`` of the appliances reached through ``relations`` (none: the model's own)."""
    return [f"{relation}__{name}" if relation else name
            for relation in (relations or ("",)) for name in APPLIANCE_UNSHOWN_FIELDS]


def appliance_list(*, user, organization=None):
    return (
        Appliance.objects.for_user(user)
        .in_organization(organization)
        .select_related("organization")
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
    from .models import ConfigurationBackup

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
    from datetime import timedelta

    from django.db.models import Exists, OuterRef
    from django.utils import timezone

    from .models import BackupPolicy, BackupStatus, ConfigurationBackup

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


# -- hardware replacement (RMA) --------------------------------------------------------------------------


def rma_list(*, user, organization=None):
    from .models import RmaCase

    return (
        RmaCase.objects.for_user(user)
        .in_organization(organization)
        .select_related("appliance", "organization", "pair", "opened_by")
    )


def rma_case_steps(*, case) -> list:
    """The case's steps with who recorded them and their attachments, in procedure order (fixed query count)."""
    return list(
        case.steps.select_related("done_by", "recorded_by").prefetch_related("attachments").order_by("position")
    )


def rma_open_case_for(*, user, appliance):
    from .models import RmaStatus

    return rma_list(user=user).filter(appliance=appliance).exclude(status=RmaStatus.CLOSED).first()


def appliance_hardware_history(*, user, appliance) -> list:
    from .models import ApplianceHardwareRecord

    return list(ApplianceHardwareRecord.objects.for_user(user).filter(appliance=appliance).order_by("-created_at", "-id")[:20])


def pairs_without_failover_for_rma(user, organization=None) -> list[dict]:
    """Pairs running without failover because a member is out for replacement: open cases whose failover step
    is not done yet, with since when (the case's opening). For the fleet dashboard."""
    from django.db.models import Exists, OuterRef

    from .models import RmaStatus, RmaStep, RmaStepKey, RmaStepState

    restored = RmaStep.objects.filter(case=OuterRef("pk"), key=RmaStepKey.FAILOVER, state=RmaStepState.DONE)
    cases = (
        rma_list(user=user, organization=organization)
        .exclude(status=RmaStatus.CLOSED)
        .filter(pair__isnull=False)
        .annotate(restored=Exists(restored))
        .filter(restored=False)
        .select_related("pair__primary", "pair__backup")
        # Shown on the dashboard, polled: never load (and decrypt) the secrets of the rows it displays.
        .defer(*appliance_unshown_fields("appliance", "pair__primary", "pair__backup"), "pair__dns_tsig_secret")
        .order_by("created_at")
    )
    return [{"pair": case.pair, "appliance": case.appliance, "case": case, "since": case.created_at} for case in cases]
