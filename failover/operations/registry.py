"""Which module plans which operation kind."""

from ..models import OperationKind
from . import auto_failover, breaking, establish, fix_conflict, role_change, sync

PLANNERS = {
    OperationKind.SYNC: sync.plan,
    OperationKind.BECOME_PRIMARY: role_change.plan,
    OperationKind.BECOME_BACKUP: role_change.plan,
    OperationKind.ESTABLISH: establish.plan,
    OperationKind.BREAK: breaking.plan,
    OperationKind.FIX_CONFLICT: fix_conflict.plan,
    OperationKind.AUTO_FAILOVER: auto_failover.plan,
}

SUPPORTED_KINDS = frozenset(PLANNERS)
