"""Evacuating a location: a sync-first switchover of every pair served from it, planned first, then run with
bounded concurrency and a stop threshold; "return" brings the same pairs back."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse

from portal.models import TenantModel


class EvacuationDirection(models.TextChoices):
    EVACUATE = "evacuate", "Evacuate"
    RETURN = "return", "Return"


class EvacuationStatus(models.TextChoices):
    PLANNED = "planned", "Planned (not started)"
    RUNNING = "running", "Running"
    STOPPED = "stopped", "Stopped (too many failures)"
    CANCELLED = "cancelled", "Cancelled"
    DONE = "done", "Done"


class EvacuationItemStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Moved"
    FAILED = "failed", "Failed"
    NOT_STARTED = "not_started", "Not started"


class Evacuation(TenantModel):
    location = models.CharField(max_length=100)
    direction = models.CharField(max_length=16, choices=EvacuationDirection.choices, default=EvacuationDirection.EVACUATE)
    status = models.CharField(max_length=16, choices=EvacuationStatus.choices, default=EvacuationStatus.PLANNED)
    concurrency = models.PositiveSmallIntegerField(default=5, validators=[MinValueValidator(1), MaxValueValidator(50)])
    stop_after_failures = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text="Stop starting switchovers once this many have failed.")
    returning = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                                  help_text="The evacuation a return brings back.")
    # Pairs that cannot move and why: [{"pair": id, "site": name, "reason": text}], shown with the plan.
    blocked = models.JSONField(default=list, blank=True)
    stop_reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.location} #{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("failover:evacuation", args=[self.pk])

    @property
    def is_active(self) -> bool:
        return self.status == EvacuationStatus.RUNNING


class EvacuationItem(TenantModel):
    evacuation = models.ForeignKey(Evacuation, on_delete=models.CASCADE, related_name="items")
    pair = models.ForeignKey("failover.Pair", on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField()
    source = models.ForeignKey("appliances.Appliance", on_delete=models.CASCADE, related_name="+")
    target = models.ForeignKey("appliances.Appliance", on_delete=models.CASCADE, related_name="+")
    operation = models.ForeignKey("failover.Operation", on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="+")
    status = models.CharField(max_length=16, choices=EvacuationItemStatus.choices,
                              default=EvacuationItemStatus.QUEUED, db_index=True)
    detail = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["evacuation", "position"]
        constraints = [models.UniqueConstraint(fields=["evacuation", "pair"], name="evacuation_item_one_per_pair")]

    def __str__(self) -> str:
        return f"{self.pair}: {self.source} → {self.target}"
