"""Tenancy-test entries for the failover app's models (see tests/tenant_registry.py)."""

from failover.models import (
    Alert,
    BackupSettings,
    Operation,
    OperationStep,
    Pair,
    PairStateChange,
    StatusChange,
    SyncRecord,
)
from tests.factories import (
    AlertFactory,
    ApplianceFactory,
    BackupSettingsFactory,
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


ENTRIES = {
    Pair: Entry(make=_pair),
    BackupSettings: Entry(make=lambda org, marker: BackupSettingsFactory(appliance=ApplianceFactory(organization=org, name=f"{marker}-bs"))),
    StatusChange: Entry(make=lambda org, marker: StatusChangeFactory(appliance=ApplianceFactory(organization=org, name=f"{marker}-sc"), summary=marker)),
    PairStateChange: Entry(make=lambda org, marker: PairStateChangeFactory(pair=_pair(org, f"{marker}-psc"), reason=marker)),
    Operation: Entry(make=lambda org, marker: OperationFactory(pair=_pair(org, f"{marker}-op"), reason=marker)),
    OperationStep: Entry(make=lambda org, marker: OperationStepFactory(operation=OperationFactory(pair=_pair(org, f"{marker}-step")), detail=marker)),
    SyncRecord: Entry(make=lambda org, marker: SyncRecordFactory(pair=_pair(org, f"{marker}-sync"), message=marker)),
    Alert: Entry(make=lambda org, marker: AlertFactory(pair=_pair(org, f"{marker}-alert"), subject=marker)),
}
