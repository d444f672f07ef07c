from .history import PairStateChange, StatusChange
from .operations import Operation, OperationKind, OperationStatus, OperationStep, StepStatus
from .pairs import BackupSettings, NetworkMethod, Pair, PairState, Provenance
from .syncs import SyncRecord, SyncResult, SyncTrigger

__all__ = [
    "BackupSettings",
    "Provenance",
    "NetworkMethod",
    "Operation",
    "OperationKind",
    "OperationStatus",
    "OperationStep",
    "Pair",
    "PairState",
    "PairStateChange",
    "StatusChange",
    "StepStatus",
    "SyncRecord",
    "SyncResult",
    "SyncTrigger",
]
