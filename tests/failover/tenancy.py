"""Tenancy-test entries for the failover app's models (see tests/tenant_registry.py)."""

import itertools
from datetime import timedelta

from django.utils import timezone

from failover.models import (
    AdviceFinding,
    ApplianceProbeLocations,
    BackupSettings,
    ChangeLogEntry,
    DrillSchedule,
    Evacuation,
    EvacuationItem,
    LocationStatus,
    MaintenanceWindow,
    Operation,
    OperationKind,
    OperationStep,
    Pair,
    PairAdoptionImport,
    PairStateChange,
    ProbeSettings,
    StatusChange,
    SyncRecord,
)
from failover.services.advice import advice_refresh
from portal.models import Alert
from tests.factories import (
    AlertFactory,
    ApplianceFactory,
    BackupSettingsFactory,
    ChangeLogEntryFactory,
    DrillScheduleFactory,
    EvacuationFactory,
    EvacuationItemFactory,
    MaintenanceWindowFactory,
    OperationFactory,
    OperationStepFactory,
    PairFactory,
    PairStateChangeFactory,
    StatusChangeFactory,
    SyncRecordFactory,
)
from tests.tenant_registry import Entry


def _pair(org, marker):
    return PairFactory(organization=org, site_hostname=f"{marker}.example.com")


def _finding(org, marker):
    """A stored finding (backup operations on for the normal primary), as the advice service writes it."""
    pair = _pair(org, f"{marker}-advice")
    BackupSettingsFactory(appliance=pair.primary, enable_backup_operations=True)
    advice_refresh(pair_ids=[pair.pk])
    return AdviceFinding.objects.get(pair=pair, code="primary_backup_operations")


_pair_counter = itertools.count(1)


def _pair_payload(org):
    n = next(_pair_counter)
    primary, backup = ApplianceFactory(organization=org), ApplianceFactory(organization=org)
    return {
        "organization": org.pk, "site_hostname": f"new-pair-{n}.example.com", "primary": primary.pk,
        "backup": backup.pk, "network_method": "shared_ip", "shared_ip": f"198.18.250.{n % 250 + 1}",
        "backup_host": backup.management_host, "reverse_host": primary.management_host,
    }


def _pair_form_payload(org):
    return {**_pair_payload(org), "dns_port": 53, "dns_ttl": 60, "dns_tsig_algorithm": "hmac-sha256",
            "nat_public_port": 443, "backup_port": 443, "reverse_port": 443, "sync_stale_after": 93600}


def _window_payload(org):
    starts = timezone.now() + timedelta(hours=1)
    return {"pair": _pair(org, f"window-{next(_pair_counter)}").pk, "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=2)).isoformat(), "reason": "firmware"}


ENTRIES = {
    Pair: Entry(make=_pair, payload=_pair_payload, form_payload=_pair_form_payload),
    BackupSettings: Entry(make=lambda org, marker: BackupSettingsFactory(appliance=ApplianceFactory(organization=org, name=f"{marker}-bs"))),
    StatusChange: Entry(make=lambda org, marker: StatusChangeFactory(appliance=ApplianceFactory(organization=org, name=f"{marker}-sc"), summary=marker)),
    PairStateChange: Entry(make=lambda org, marker: PairStateChangeFactory(pair=_pair(org, f"{marker}-psc"), reason=marker)),
    # A runbook's kind: the operation is reachable both as an operation and as a runbook (/api/v1/runbooks/).
    Operation: Entry(make=lambda org, marker: OperationFactory(pair=_pair(org, f"{marker}-op"), reason=marker,
                                                               kind=OperationKind.MAINTENANCE)),
    OperationStep: Entry(make=lambda org, marker: OperationStepFactory(operation=OperationFactory(pair=_pair(org, f"{marker}-step")), detail=marker)),
    SyncRecord: Entry(make=lambda org, marker: SyncRecordFactory(pair=_pair(org, f"{marker}-sync"), message=marker)),
    AdviceFinding: Entry(make=_finding),
    Alert: Entry(make=lambda org, marker: AlertFactory(pair=_pair(org, f"{marker}-alert"), subject=marker)),
    MaintenanceWindow: Entry(make=lambda org, marker: MaintenanceWindowFactory(pair=_pair(org, f"{marker}-mw"), reason=marker),
                             payload=_window_payload),
    DrillSchedule: Entry(make=lambda org, marker: DrillScheduleFactory(pair=_pair(org, f"{marker}-drill"))),
    Evacuation: Entry(make=lambda org, marker: EvacuationFactory(organization=org, location=marker),
                      payload=lambda org: {"organization": org.pk, "location": "PAR-9"}),
    EvacuationItem: Entry(make=lambda org, marker: EvacuationItemFactory(pair=_pair(org, f"{marker}-ev"), detail=marker)),
    ChangeLogEntry: Entry(make=lambda org, marker: ChangeLogEntryFactory(
        operation=OperationFactory(pair=_pair(org, f"{marker}-cl")), text=marker)),
    LocationStatus: Entry(make=lambda org, marker: LocationStatus.objects.create(
        organization=org, appliance=ApplianceFactory(organization=org, name=f"{marker}-ls"), location=marker[:40],
        status_error=marker)),
    # One row per organisation (POST sets it, never adds a second): no create payload, so the generic test only
    # proves a foreign organisation is refused with nothing written; tests/failover/probing covers the rest.
    ProbeSettings: Entry(make=lambda org, marker: ProbeSettings.objects.create(organization=org, locations=[marker])),
    PairAdoptionImport: Entry(make=lambda org, marker: PairAdoptionImport.objects.create(organization=org, filename=marker)),
    ApplianceProbeLocations: Entry(
        make=lambda org, marker: ApplianceProbeLocations.objects.create(
            organization=org, appliance=ApplianceFactory(organization=org, name=f"{marker}-apl"), locations=[marker]),
        payload=lambda org: {"appliance": ApplianceFactory(organization=org).pk, "locations": ["local"]}),
}
