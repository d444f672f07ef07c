"""Tenancy-test entries for the RMA app's models (see tests/tenant_registry.py)."""

from rma.models import ApplianceHardwareRecord, RmaAttachment, RmaCase, RmaStep
from tests.factories import (
    ApplianceFactory,
    ApplianceHardwareRecordFactory,
    RmaAttachmentFactory,
    RmaCaseFactory,
)
from tests.tenant_registry import Entry


def _appliance(org, marker):
    return ApplianceFactory(organization=org, name=marker)


def _case(org, marker):
    return RmaCaseFactory(appliance=_appliance(org, f"{marker}-rma"), reason=marker)


def _rma_form_payload(org):
    appliance = ApplianceFactory(organization=org)
    return {"appliance": appliance.pk, "reason": "fan failure", "vendor_case_number": "X1"}


ENTRIES = {
    RmaCase: Entry(make=_case, payload=_rma_form_payload, form_payload=_rma_form_payload),
    RmaStep: Entry(make=lambda org, marker: _case(org, f"{marker}-step").steps.first()),
    RmaAttachment: Entry(
        make=lambda org, marker: RmaAttachmentFactory(case=_case(org, f"{marker}-att"), original_name=f"{marker}.png")
    ),
    ApplianceHardwareRecord: Entry(
        make=lambda org, marker: ApplianceHardwareRecordFactory(appliance=_appliance(org, f"{marker}-hw"), serial_number=marker[:60])
    ),
}
