"""Status history: written only on transitions a person cares about, never for every probe."""

from django.db import models

from portal.models import TenantModel


class StatusChange(TenantModel):
    appliance = models.ForeignKey("appliances.Appliance", on_delete=models.CASCADE, related_name="status_changes")
    at = models.DateTimeField(db_index=True)
    reachable = models.BooleanField(null=True)
    healthy = models.BooleanField(null=True)
    role = models.CharField(max_length=16, blank=True)
    last_sync_status = models.CharField(max_length=200, blank=True)
    error = models.CharField(max_length=500, blank=True)
    summary = models.CharField(max_length=300)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["appliance", "-at"], name="statuschange_appliance_recent")]

    def __str__(self) -> str:
        return f"{self.appliance} {self.summary}"


class PairStateChange(TenantModel):
    pair = models.ForeignKey("failover.Pair", on_delete=models.CASCADE, related_name="state_changes")
    at = models.DateTimeField(db_index=True)
    state = models.CharField(max_length=24)
    previous_state = models.CharField(max_length=24, blank=True)
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.pair}: {self.previous_state} → {self.state}"
