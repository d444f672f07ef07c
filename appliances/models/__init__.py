from .appliance import AddressKind, Appliance, ApplianceAddress, FailoverRole
from .backups import (
    BackupFailure,
    BackupPolicy,
    BackupStatus,
    BackupTrigger,
    ConfigurationBackup,
)

__all__ = [
    "AddressKind",
    "Appliance",
    "ApplianceAddress",
    "BackupFailure",
    "BackupPolicy",
    "BackupStatus",
    "BackupTrigger",
    "ConfigurationBackup",
    "FailoverRole",
]
