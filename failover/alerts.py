"""The alert kinds the failover app raises (registered with the portal in ``FailoverConfig.ready``)."""

from django.db import models


class AlertKind(models.TextChoices):
    PRIMARY_DOWN_COUNTDOWN = "countdown", "Primary down (countdown)"
    PRIMARY_RECOVERED = "recovered", "Primary recovered"
    SYNC_STALE = "sync_stale", "Data sync stale"
    CONFLICT = "conflict", "Conflict: two primaries"
    CONFLICT_NO_PRIMARY = "no_primary", "Conflict: no primary"
    BACKUP_DOWN = "backup_down", "Backup unreachable"
    PEER_LINK_LOST = "peer_link_lost", "Peer link lost"
    BROKEN_OUTSIDE = "broken_outside", "Relationship broken outside the portal"
    DEGRADED = "degraded", "Pair degraded"
    RUNNING_ON_BACKUP = "on_backup", "Running on the normal backup"
    # The evidence shows a condition above has ended (never merely because the state changed).
    CLEARED = "cleared", "Condition cleared"
    FAILOVER = "failover", "Failover performed"
    # An automatic failover that was cancelled or failed: never filed as "performed".
    FAILOVER_UNFINISHED = "failover_unfinished", "Automatic failover not completed"
    # The portal's policy would fail over but will not (e.g. the appliance's own automatic failover is on).
    AUTO_FAILOVER_BLOCKED = "failover_blocked", "Automatic failover blocked"
    # A failover drill (failover/operations/runbooks.py) failed or was cancelled by the appliances.
    DRILL_FAILED = "drill_failed", "Failover drill failed"
    # A member the pair's current epoch made backup answered as primary beside the one it made primary, and the
    # portal made it backup (services/fencing.py).
    SECOND_PRIMARY_FENCED = "second_primary_fenced", "Second primary made backup"
    # A probe location cannot trust its own network (reference targets silent, or everything down at once).
    LOCATION_ISOLATED = "location_isolated", "Probe location isolated"
