"""Alerts: one alert sent (or suppressed): who was told what, when, about what.

The portal knows no pair or appliance: an alert names what it is about through two generic references that the
apps above fill in, ``scope`` (the group the condition is about, e.g. a pair) and ``target`` (the one member
concerned, e.g. an appliance). The apps give their models a ``GenericRelation`` to these, so ``Alert`` rows
filter as ``Alert.objects.filter(pair=...)`` / ``(appliance=...)`` and go when their object is deleted.
"""

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models

from ..alerts import alert_kind_choices
from .scoping import TenantModel


class AlertSeverity(models.TextChoices):
    INFO = "info", "Info"
    WARNING = "warning", "Warning"
    CRITICAL = "critical", "Critical"


class Alert(TenantModel):
    """``dedup_key`` groups repeats of one condition."""

    kind = models.CharField(max_length=24, choices=alert_kind_choices)
    severity = models.CharField(max_length=16, choices=AlertSeverity.choices, default=AlertSeverity.WARNING)
    scope_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    scope_id = models.PositiveBigIntegerField(null=True, blank=True)
    scope = GenericForeignKey("scope_type", "scope_id")
    target_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    target_id = models.PositiveBigIntegerField(null=True, blank=True)
    target = GenericForeignKey("target_type", "target_id")
    dedup_key = models.CharField(max_length=200, db_index=True)
    subject = models.CharField(max_length=300)
    body = models.TextField()
    recipients = models.JSONField(default=list)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivery_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "dedup_key", "-created_at"], name="alert_dedup_recent"),
            models.Index(fields=["scope_type", "scope_id"], name="alert_scope"),
            models.Index(fields=["target_type", "target_id"], name="alert_target"),
        ]

    def __str__(self) -> str:
        return self.subject
