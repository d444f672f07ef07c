from django.db import models

from portal.models import TenantModel


class SyncTrigger(models.TextChoices):
    SCHEDULE = "schedule", "Scheduled"
    MANUAL = "manual", "Sync now"
    OPERATION = "operation", "Part of an operation"
    OBSERVED = "observed", "Seen by a probe"


class SyncResult(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    # Closed without the appliance reporting an outcome (a vendor-only appliance that reported no sync time).
    UNKNOWN = "unknown", "Outcome not reported"


class SyncRecord(TenantModel):
    """One data sync from the primary into the backup."""

    pair = models.ForeignKey("failover.Pair", on_delete=models.CASCADE, related_name="syncs")
    operation = models.ForeignKey("failover.Operation", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    trigger = models.CharField(max_length=16, choices=SyncTrigger.choices)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    bytes_transferred = models.PositiveBigIntegerField(null=True, blank=True)
    result = models.CharField(max_length=16, choices=SyncResult.choices, default=SyncResult.RUNNING)
    message = models.CharField(max_length=300, blank=True)
    # False when only the finishing time is known (check_health reports when the last sync ended, not when it
    # began): started_at then repeats finished_at and no duration is claimed.
    start_reported = models.BooleanField(default=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"Sync of {self.pair} at {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None or not self.start_reported:
            return None
        return (self.finished_at - self.started_at).total_seconds()
