from .appliance import AddressKind, Appliance, ApplianceAddress, CapabilityProfile, FailoverRole
from .backups import (
    BackupFailure,
    BackupPolicy,
    BackupStatus,
    BackupTrigger,
    ConfigurationBackup,
)
from .imports import ApplianceImport, ImportStatus
from .probe_status import PROBE_STATUS_FIELDS, ApplianceProbeStatus

__all__ = [
    "PROBE_STATUS_FIELDS",
    "AddressKind",
    "Appliance",
    "ApplianceAddress",
    "ApplianceImport",
    "ApplianceProbeStatus",
    "BackupFailure",
    "BackupPolicy",
    "BackupStatus",
    "BackupTrigger",
    "CapabilityProfile",
    "ConfigurationBackup",
    "FailoverRole",
    "ImportStatus",
]
