from .adoption import PairAdoptionImport
from .advice import SEVERITY_RANK, AdviceFinding, FindingSeverity
from .evacuations import (
    Evacuation,
    EvacuationDirection,
    EvacuationItem,
    EvacuationItemStatus,
    EvacuationStatus,
)
from .history import PairStateChange, StatusChange
from .locations import LOCAL_LOCATION, ApplianceProbeLocations, LocationStatus, ProbeLocation, ProbeSettings
from .operations import Operation, OperationKind, OperationStatus, OperationStep, StepStatus
from .pairs import MEMBERS_WITH_STATUS, BackupSettings, NetworkMethod, Pair, PairState, Provenance
from .runbooks import ChangeLogEntry, DrillSchedule, MaintenanceWindow, WindowState
from .syncs import SyncRecord, SyncResult, SyncTrigger

__all__ = [
    "MEMBERS_WITH_STATUS",
    "SEVERITY_RANK",
    "AdviceFinding",
    "FindingSeverity",
    "LOCAL_LOCATION",
    "ApplianceProbeLocations",
    "LocationStatus",
    "ProbeLocation",
    "ProbeSettings",
    "BackupSettings",
    "Provenance",
    "ChangeLogEntry",
    "DrillSchedule",
    "Evacuation",
    "EvacuationDirection",
    "EvacuationItem",
    "EvacuationItemStatus",
    "EvacuationStatus",
    "MaintenanceWindow",
    "WindowState",
    "NetworkMethod",
    "Operation",
    "OperationKind",
    "OperationStatus",
    "OperationStep",
    "Pair",
    "PairAdoptionImport",
    "PairState",
    "PairStateChange",
    "StatusChange",
    "StepStatus",
    "SyncRecord",
    "SyncResult",
    "SyncTrigger",
]
