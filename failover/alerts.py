"""The alert kinds the failover app raises (registered with the portal in ``FailoverConfig.ready``)."""

from django.db import models


class AlertKind(models.TextChoices):
    PRIMARY_DOWN_COUNTDOWN = "countdown", "Primary down (countdown)"
    PRIMARY_RECOVERED = "recovered", "Primary recovered"
    SYNC_STALE = "sync_stale", "Data sync stale"
    CONFLICT = "conflict", "Role conflict"
    FAILOVER = "failover", "Failover performed"
    # The portal's policy would fail over but will not (e.g. the appliance's own automatic failover is on).
    AUTO_FAILOVER_BLOCKED = "failover_blocked", "Automatic failover blocked"
