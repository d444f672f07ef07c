from .history import PairStateChange, StatusChange
from .operations import Operation, OperationKind, OperationStatus, OperationStep, StepStatus
from .pairs import BackupSettings, NetworkMethod, Pair, PairState
from .syncs import SyncRecord, SyncResult, SyncTrigger

__all__ = [
    "BackupSettings",
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
