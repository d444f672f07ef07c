"""Tenancy-test entries for the appliances app's backup and RMA models (see tests/tenant_registry.py)."""

from appliances.models import (
    ApplianceHardwareRecord,
    BackupPolicy,
    ConfigurationBackup,
    RmaAttachment,
    RmaCase,
    RmaStep,
)
from tests.factories import (
    ApplianceFactory,
    ApplianceHardwareRecordFactory,
    BackupPolicyFactory,
    ConfigurationBackupFactory,
    RmaAttachmentFactory,
    RmaCaseFactory,
)
from tests.tenant_registry import Entry


def _appliance(org, marker):
    return ApplianceFactory(organization=org, name=marker)


def _backup(org, marker):
    return ConfigurationBackupFactory(appliance=_appliance(org, f"{marker}-backup"), filename=f"{marker}.nsb")


def _case(org, marker):
    return RmaCaseFactory(appliance=_appliance(org, f"{marker}-rma"), reason=marker)


def _rma_form_payload(org):
    appliance = ApplianceFactory(organization=org)
    return {"appliance": appliance.pk, "reason": "fan failure", "vendor_case_number": "X1"}


ENTRIES = {
    BackupPolicy: Entry(make=lambda org, marker: BackupPolicyFactory(organization=org)),
    ConfigurationBackup: Entry(make=_backup),
    RmaCase: Entry(make=_case, payload=_rma_form_payload, form_payload=_rma_form_payload),
    RmaStep: Entry(make=lambda org, marker: _case(org, f"{marker}-step").steps.first()),
    RmaAttachment: Entry(
        make=lambda org, marker: RmaAttachmentFactory(case=_case(org, f"{marker}-att"), original_name=f"{marker}.png")
    ),
    ApplianceHardwareRecord: Entry(
        make=lambda org, marker: ApplianceHardwareRecordFactory(appliance=_appliance(org, f"{marker}-hw"), serial_number=marker[:60])
    ),
}
