from .appliance import AddressKind, Appliance, ApplianceAddress, FailoverRole
from .backups import (
    BackupFailure,
    BackupPolicy,
    BackupStatus,
    BackupTrigger,
    ConfigurationBackup,
)
from .rma import (
    ApplianceHardwareRecord,
    HardwareEvent,
    RestorePath,
    RmaAttachment,
    RmaCase,
    RmaStatus,
    RmaStep,
    RmaStepKey,
    RmaStepState,
)

__all__ = [
    "AddressKind",
    "Appliance",
    "ApplianceAddress",
    "ApplianceHardwareRecord",
    "BackupFailure",
    "BackupPolicy",
    "BackupStatus",
    "BackupTrigger",
    "ConfigurationBackup",
    "FailoverRole",
    "HardwareEvent",
    "RestorePath",
    "RmaAttachment",
    "RmaCase",
    "RmaStatus",
    "RmaStep",
    "RmaStepKey",
    "RmaStepState",
]
