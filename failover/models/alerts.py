from django.db import models

from portal.models import TenantModel


class AlertKind(models.TextChoices):
    PRIMARY_DOWN_COUNTDOWN = "countdown", "Primary down (countdown)"
    PRIMARY_RECOVERED = "recovered", "Primary recovered"
    SYNC_STALE = "sync_stale", "Data sync stale"
    CONFLICT = "conflict", "Role conflict"
    FAILOVER = "failover", "Failover performed"
    # The portal's policy would fail over but will not (e.g. the appliance's own automatic failover is on).
    AUTO_FAILOVER_BLOCKED = "failover_blocked", "Automatic failover blocked"
    CERTIFICATE_EXPIRY = "cert_expiry", "Certificate expiring"
    CERTIFICATE_DRIFT = "cert_drift", "Certificate drift"
    BACKUP_FAILED = "backup_failed", "Configuration backup failed"


class AlertSeverity(models.TextChoices):
    INFO = "info", "Info"
    WARNING = "warning", "Warning"
    CRITICAL = "critical", "Critical"


class Alert(TenantModel):
    """One alert sent (or suppressed): who was told what, when. ``dedup_key`` groups repeats of one condition."""

    kind = models.CharField(max_length=24, choices=AlertKind.choices)
    severity = models.CharField(max_length=16, choices=AlertSeverity.choices, default=AlertSeverity.WARNING)
    pair = models.ForeignKey("failover.Pair", on_delete=models.CASCADE, null=True, blank=True, related_name="alerts")
    appliance = models.ForeignKey(
        "appliances.Appliance", on_delete=models.CASCADE, null=True, blank=True, related_name="alerts"
    )
    dedup_key = models.CharField(max_length=200, db_index=True)
    subject = models.CharField(max_length=300)
    body = models.TextField()
    recipients = models.JSONField(default=list)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivery_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "dedup_key", "-created_at"], name="alert_dedup_recent")]

    def __str__(self) -> str:
        return self.subject
