"""A CSV file handled by a worker (appliance import, pair adoption): the request checks the file's shape and queues
it; the worker checks every row, writes all or nothing, and records what happened. Concrete jobs live in the app
that owns their rows."""

from django.conf import settings
from django.db import models

from .scoping import TenantModel


class ImportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Checking rows"
    SUCCEEDED = "succeeded", "Imported"
    FAILED = "failed", "Nothing imported"


class CsvJob(TenantModel):
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    filename = models.CharField(max_length=255, blank=True)
    # The uploaded text until the job has run (then emptied): at most CSV_IMPORT_MAX_BYTES.
    content = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=ImportStatus.choices, default=ImportStatus.QUEUED)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Import {self.filename or self.pk} ({self.get_status_display().lower()})"

    @property
    def percent(self) -> int:
        return int(100 * self.processed_rows / self.total_rows) if self.total_rows else 0

    @property
    def finished(self) -> bool:
        return self.status in (ImportStatus.SUCCEEDED, ImportStatus.FAILED)
