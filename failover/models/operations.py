"""Operations: a sync, a role change, a conflict fix, an establish, a break, an automatic failover, a runbook.
Each is a row with its steps, run by a Celery task under a per-pair lock, resumable after a crash."""

from django.conf import settings
from django.db import models
from django.urls import reverse

from portal.models import TenantModel


class OperationKind(models.TextChoices):
    SYNC = "sync", "Sync now"
    BECOME_PRIMARY = "become_primary", "Become primary"
    BECOME_BACKUP = "become_backup", "Become backup"
    ESTABLISH = "establish", "Establish relationship"
    BREAK = "break", "Break relationship"
    FIX_CONFLICT = "fix_conflict", "Fix conflict"
    AUTO_FAILOVER = "auto_failover", "Automatic failover"
    APPLY_SETTINGS = "apply_settings", "Apply backup settings"
    MAINTENANCE = "maintenance", "Planned maintenance"
    UNPLANNED_MAINTENANCE = "unplanned_maintenance", "Unplanned maintenance"
    PAIR_UPGRADE = "pair_upgrade", "Pair upgrade"
    DRILL = "drill", "Failover drill"

    @classmethod
    def runbooks(cls) -> list[str]:
        """Kinds that are runbooks: long procedures with checkpoints a person confirms (failover/runbooks.md)."""
        return [cls.MAINTENANCE, cls.UNPLANNED_MAINTENANCE, cls.PAIR_UPGRADE, cls.DRILL]


class OperationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"

    @classmethod
    def active(cls) -> list[str]:
        return [cls.PENDING, cls.RUNNING]


class StepStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"
    # A guided step: the operator does it on the appliance, then the portal verifies it.
    WAITING = "waiting", "Waiting for the operator"


class Operation(TenantModel):
    pair = models.ForeignKey("failover.Pair", on_delete=models.CASCADE, related_name="operations", null=True, blank=True)
    appliance = models.ForeignKey(
        "appliances.Appliance", on_delete=models.CASCADE, related_name="operations", null=True, blank=True,
        help_text="The appliance the operation was started from, where that matters (become primary/backup).",
    )
    kind = models.CharField(max_length=24, choices=OperationKind.choices)
    status = models.CharField(max_length=16, choices=OperationStatus.choices, default=OperationStatus.PENDING, db_index=True)
    params = models.JSONField(default=dict, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    idempotency_key = models.CharField(max_length=100, blank=True)
    epoch = models.PositiveBigIntegerField(default=0, help_text="The pair's epoch when the operation was planned.")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="operation_unique_idempotency_key",
            ),
            # The database, not a hope, keeps one active operation per pair.
            models.UniqueConstraint(
                fields=["pair"],
                condition=models.Q(status__in=["pending", "running"]),
                name="operation_one_active_per_pair",
                violation_error_message="Another operation is already running on this pair.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("failover:operation", args=[self.pk])

    @property
    def is_active(self) -> bool:
        return self.status in OperationStatus.active()


class OperationStep(TenantModel):
    operation = models.ForeignKey(Operation, on_delete=models.CASCADE, related_name="steps")
    index = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=64)
    description = models.CharField(max_length=300)
    status = models.CharField(max_length=16, choices=StepStatus.choices, default=StepStatus.PENDING)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    detail = models.TextField(blank=True)
    # A checkpoint: the person who said it is done, and when (the step then verifies what it can).
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+")

    class Meta:
        ordering = ["operation", "index"]
        constraints = [models.UniqueConstraint(fields=["operation", "index"], name="operation_step_unique_index")]

    def __str__(self) -> str:
        return f"{self.operation} step {self.index}: {self.name}"
