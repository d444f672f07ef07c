from .appliance import AddressKind, Appliance, ApplianceAddress, CapabilityProfile, FailoverRole
from .backups import (
    BackupFailure,
    BackupPolicy,
    BackupStatus,
    BackupTrigger,
    ConfigurationBackup,
)
from .imports import ApplianceImport, ImportStatus

__all__ = [
    "AddressKind",
    "Appliance",
    "ApplianceAddress",
    "ApplianceImport",
    "BackupFailure",
    "BackupPolicy",
    "BackupStatus",
    "BackupTrigger",
    "CapabilityProfile",
    "ConfigurationBackup",
    "FailoverRole",
    "ImportStatus",
]
