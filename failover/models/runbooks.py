"""What runbooks keep besides their Operation row: maintenance windows, the change log of /login changes made on
an interim primary, and failover drill schedules."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from portal.models import TenantModel


class WindowState(models.TextChoices):
    """Where a window stands now: one rule for the pages, the API and the Close button."""

    SCHEDULED = "scheduled", "Scheduled"
    OPEN = "open", "Open"
    ENDED = "ended", "Ended"
    CLOSED = "closed", "Closed"


class MaintenanceWindow(TenantModel):
    """A period during which a pair, or one appliance, is expected to misbehave: alerts about what it covers are
    suppressed and the portal's automatic failover of the pair is paused. Scheduled by a person or opened by a
    runbook; it ends on its own at ``ends_at`` (or earlier when closed)."""

    pair = models.ForeignKey("failover.Pair", on_delete=models.CASCADE, related_name="maintenance_windows",
                             null=True, blank=True)
    appliance = models.ForeignKey("appliances.Appliance", on_delete=models.CASCADE, related_name="maintenance_windows",
                                  null=True, blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    operation = models.ForeignKey("failover.Operation", on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="maintenance_windows", help_text="The runbook that opened it.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")

    class Meta:
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(pair__isnull=False) | Q(appliance__isnull=False),
                                   name="maintenance_window_covers_something"),
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="maintenance_window_ends_after_start"),
        ]
        indexes = [models.Index(fields=["organization", "ends_at"], name="maintenance_window_ends")]

    def __str__(self) -> str:
        return f"Maintenance of {self.appliance or self.pair} {self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at:%H:%M}"

    @property
    def covers(self) -> str:
        return str(self.appliance or self.pair)

    def clean(self) -> None:
        if self.pair_id is None and self.appliance_id is None:
            raise ValidationError("Choose the pair or the appliance the window covers.")
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "The window must end after it starts."})

    def is_open_at(self, when) -> bool:
        return self.state_at(when) == WindowState.OPEN

    def state_at(self, when) -> WindowState:
        if self.closed_at is not None:
            return WindowState.CLOSED
        if when >= self.ends_at:
            return WindowState.ENDED
        return WindowState.OPEN if when >= self.starts_at else WindowState.SCHEDULED

    @property
    def state(self) -> WindowState:
        return self.state_at(timezone.now())

    @property
    def closable(self) -> bool:
        """Closing ends a window early (or cancels a scheduled one); one that is over has nothing left to close."""
        return self.state in (WindowState.SCHEDULED, WindowState.OPEN)


class ChangeLogEntry(TenantModel):
    """A /login change the operator made on the interim primary during a runbook: re-applied after the swap back
    when the flow needs it (unplanned maintenance with /login changes)."""

    operation = models.ForeignKey("failover.Operation", on_delete=models.CASCADE, related_name="change_log")
    text = models.CharField(max_length=1000)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="+")

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.text[:80]


class DrillSchedule(TenantModel):
    """A pair's failover drill: a planned switchover and back every ``every_days``, only inside a maintenance
    window covering the pair and never while an alert about the pair is open."""

    pair = models.OneToOneField("failover.Pair", on_delete=models.CASCADE, related_name="drill_schedule")
    enabled = models.BooleanField(default=True)
    every_days = models.PositiveSmallIntegerField(default=30)
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_skip_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["pair"]

    def __str__(self) -> str:
        return f"Drill of {self.pair} every {self.every_days} days"
