"""What the portal's automatic policies decide about a pair, and why: the automatic failover
(``autofailover.py``) and the fencing of a second primary (``fencing.py``) answer in the same terms."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ..models import Operation


class DecisionCode(StrEnum):
    """Why a policy acts on a pair or not (a StrEnum: logs and the API show the plain value)."""

    GO = "go"  # fail over now
    OFF = "off"  # portal automatic failover off for the pair (or nothing to follow up)
    NOT_DOWN = "not_down"
    WAITING = "waiting"  # the primary timeout has not run out yet
    STANDBY_DOWN = "standby_down"
    CONNECTIVITY = "connectivity"  # no connectivity test IP answers (or none is set): maybe the portal's network
    QUORUM = "quorum"  # fewer than a quorum of the primary's probe locations see it down
    BUSY = "busy"  # another operation runs on the pair
    BUILTIN_ON = "builtin_on"  # the appliance's own automatic failover is on too
    UNKNOWN_SETTINGS = "unknown_settings"  # the standby's backup settings were never read nor declared
    DONE = "done"  # this outage (or this epoch's second primary) already has its operation
    FENCE = "fence"  # a second primary appeared beside the one the current epoch made primary: demote it
    UNDECIDED = "undecided"  # two primaries, and no role change recorded for the epoch says which one should be
    MAINTENANCE = "maintenance"  # a maintenance window covers the pair or a member: paused
    DEFERRED = "deferred"  # not looked at in this pass (it started its share of operations): the next pass does


#: The decisions that start an operation.
ACTING_CODES = (DecisionCode.GO, DecisionCode.FENCE)


@dataclass(frozen=True)
class Decision:
    pair_id: int
    code: DecisionCode
    reason: str
    operation: Operation | None = None
    #: For "waiting": when the primary timeout runs out, so the caller can evaluate again exactly then.
    due_at: datetime | None = None

    @property
    def go(self) -> bool:
        return self.code == DecisionCode.GO
