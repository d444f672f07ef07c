"""Tenancy-test entries for the appliances app's backup models (see tests/tenant_registry.py)."""

from appliances.models import ApplianceImport, BackupPolicy, ConfigurationBackup
from tests.factories import ApplianceFactory, BackupPolicyFactory, ConfigurationBackupFactory
from tests.tenant_registry import Entry


def _appliance(org, marker):
    return ApplianceFactory(organization=org, name=marker)


def _backup(org, marker):
    return ConfigurationBackupFactory(appliance=_appliance(org, f"{marker}-backup"), filename=f"{marker}.nsb")


ENTRIES = {
    ApplianceImport: Entry(make=lambda org, marker: ApplianceImport.objects.create(organization=org, filename=marker)),
    BackupPolicy: Entry(make=lambda org, marker: BackupPolicyFactory(organization=org)),
    ConfigurationBackup: Entry(make=_backup),
}
