"""factory-boy factories, one module per app, re-exported here."""

from .appliances import ApplianceAddressFactory, ApplianceFactory
from .portal import ApiTokenFactory, MembershipFactory, OrganizationFactory, UserFactory

__all__ = [
    "ApiTokenFactory",
    "ApplianceAddressFactory",
    "ApplianceFactory",
    "MembershipFactory",
    "OrganizationFactory",
    "UserFactory",
]

from .appliances import (  # noqa: E402
    ApplianceHardwareRecordFactory,
    BackupPolicyFactory,
    ConfigurationBackupFactory,
    RmaAttachmentFactory,
    RmaCaseFactory,
)

__all__ += [
    "ApplianceHardwareRecordFactory",
    "BackupPolicyFactory",
    "ConfigurationBackupFactory",
    "RmaAttachmentFactory",
    "RmaCaseFactory",
]

from .failover import (  # noqa: E402
    AlertFactory,
    BackupSettingsFactory,
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
    "OperationFactory",
    "OperationStepFactory",
    "PairFactory",
    "PairStateChangeFactory",
    "StatusChangeFactory",
    "SyncRecordFactory",
]

from .certificates import CertificateFactory, ServedCertificateFactory  # noqa: E402

__all__ += ["CertificateFactory", "ServedCertificateFactory"]
