"""Alerts: one alert sent (or suppressed): who was told what, when, about what.

The portal knows no pair or appliance: an alert names what it is about through two generic references that the
apps above fill in, ``scope`` (the group the condition is about, e.g. a pair) and ``target`` (the one member
concerned, e.g. an appliance). The apps give their models a ``GenericRelation`` to these, so ``Alert`` rows
filter as ``Alert.objects.filter(pair=...)`` / ``(appliance=...)`` and go when their object is deleted.
"""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.urls import reverse

from ..alerts import alert_kind_choices
from .scoping import TenantModel


class AlertSeverity(models.TextChoices):
    INFO = "info", "Info"
    WARNING = "warning", "Warning"
    CRITICAL = "critical", "Critical"

    @classmethod
    def rank(cls, severity: str) -> int:
        return [cls.INFO, cls.WARNING, cls.CRITICAL].index(cls(severity))


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
    # What routes and silences match on (kind, severity, pair, appliance...): portal.notifications.labels.
    labels = models.JSONField(default=dict, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                        related_name="+")
    # Set when a later alert says the condition is over (its ``resolves``): the resolved message names it.
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # A newer alert about the same condition (same dedup key) carries on: this one is no longer repeated.
    superseded_by = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # Why nobody was told: a silence, an open replacement case, a maintenance window (portal.notifications).
    suppressed_reason = models.CharField(max_length=300, blank=True)
    silence = models.ForeignKey("portal.Silence", on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="suppressed_alerts")
    escalated_at = models.DateTimeField(null=True, blank=True)
    # When the condition started: the first alert with this dedup key (escalation counts from it).
    firing_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "dedup_key", "-created_at"], name="alert_dedup_recent"),
            models.Index(fields=["scope_type", "scope_id"], name="alert_scope"),
            models.Index(fields=["target_type", "target_id"], name="alert_target"),
        ]

    def __str__(self) -> str:
        return self.subject

    def get_absolute_url(self) -> str:
        return reverse("portal:alert_detail", args=[self.pk])

    @property
    def status(self) -> str:
        return alert_status(self)

    @property
    def status_label(self) -> str:
        return AlertStatus(self.status).label


class AlertStatus(models.TextChoices):
    """What became of an alert, in the order the checks apply (``alert_status``)."""

    SUPPRESSED = "suppressed", "Suppressed"
    RESOLVED = "resolved", "Resolved"
    SUPERSEDED = "superseded", "Superseded by a newer alert"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    FIRING = "firing", "Firing"


def alert_status(alert: Alert) -> str:
    if alert.suppressed_reason:
        return AlertStatus.SUPPRESSED
    if alert.resolved_at:
        return AlertStatus.RESOLVED
    if alert.superseded_by_id:
        return AlertStatus.SUPERSEDED
    if alert.acknowledged_at:
        return AlertStatus.ACKNOWLEDGED
    return AlertStatus.FIRING


#: The filter of alerts still firing (the same order of checks as ``alert_status``).
FIRING = models.Q(suppressed_reason="", resolved_at__isnull=True, superseded_by__isnull=True,
                  acknowledged_at__isnull=True)


def alert_status_filter(status: str) -> models.Q:
    """The rows whose ``alert_status`` is ``status`` (the same order of checks)."""
    suppressed = ~models.Q(suppressed_reason="")
    resolved = models.Q(resolved_at__isnull=False) & ~suppressed
    superseded = models.Q(superseded_by__isnull=False, resolved_at__isnull=True) & ~suppressed
    acknowledged = models.Q(acknowledged_at__isnull=False, superseded_by__isnull=True, resolved_at__isnull=True) \
        & ~suppressed
    return {AlertStatus.SUPPRESSED: suppressed, AlertStatus.RESOLVED: resolved, AlertStatus.SUPERSEDED: superseded,
            AlertStatus.ACKNOWLEDGED: acknowledged, AlertStatus.FIRING: FIRING}[AlertStatus(status)]
