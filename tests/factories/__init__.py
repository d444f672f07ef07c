"""factory-boy factories, one module per app, re-exported here."""

from .appliances import ApplianceAddressFactory, ApplianceFactory, appliance_status_set
from .portal import ApiTokenFactory, MembershipFactory, OrganizationFactory, UserFactory

__all__ = [
    "ApiTokenFactory",
    "ApplianceAddressFactory",
    "ApplianceFactory",
    "MembershipFactory",
    "OrganizationFactory",
    "UserFactory",
    "appliance_status_set",
]

from .appliances import BackupPolicyFactory, ConfigurationBackupFactory  # noqa: E402

__all__ += ["BackupPolicyFactory", "ConfigurationBackupFactory"]

from .failover import (  # noqa: E402
    AlertFactory,
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

__all__ += [
    "AlertFactory",
    "BackupSettingsFactory",
    "ChangeLogEntryFactory",
    "DrillScheduleFactory",
    "EvacuationFactory",
    "EvacuationItemFactory",
    "MaintenanceWindowFactory",
    "OperationFactory",
    "OperationStepFactory",
    "PairFactory",
    "PairStateChangeFactory",
    "StatusChangeFactory",
    "SyncRecordFactory",
]

from .certificates import CertificateFactory, ServedCertificateFactory  # noqa: E402

__all__ += ["CertificateFactory", "ServedCertificateFactory"]

from .rma import ApplianceHardwareRecordFactory, RmaAttachmentFactory, RmaCaseFactory  # noqa: E402

__all__ += ["ApplianceHardwareRecordFactory", "RmaAttachmentFactory", "RmaCaseFactory"]
