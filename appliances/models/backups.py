"""Configuration backups of appliances and each organisation's backup policy (schedule and retention)."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse

from portal.fields import EncryptedBinaryField
from portal.models import TenantModel, TenantQuerySet

# Backups are /login configuration archives: tens of KiB to a few MiB. Anything far above is not a backup we
# want in the database (and a misbehaving appliance must not fill it).
DEFAULT_MAX_BACKUP_BYTES = 64 * 1024 * 1024


class BackupPolicy(TenantModel):
    """One per organisation (absent = the defaults below): when backups are taken and how long they are kept."""

    scheduled = models.BooleanField(
        default=True, help_text="Download a backup of every normal primary on a schedule."
    )
    interval_hours = models.PositiveIntegerField(
        default=24, validators=[MinValueValidator(1), MaxValueValidator(24 * 30)],
        help_text="Hours between scheduled backups of one appliance.",
    )
    keep_last = models.PositiveIntegerField(
        default=7, validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text="The most recent good backups of each appliance that are always kept.",
    )
    keep_weekly_weeks = models.PositiveIntegerField(
        default=8, validators=[MaxValueValidator(520)],
        help_text="Also keep the newest good backup of each of this many past weeks.",
    )
    include_logged_data = models.BooleanField(
        default=True, verbose_name="include logged data",
        help_text="Ask the appliances for backups with their logged session data (larger files).",
    )
    max_backup_mb = models.PositiveIntegerField(
        default=DEFAULT_MAX_BACKUP_BYTES // (1024 * 1024), validators=[MinValueValidator(1), MaxValueValidator(512)],
        help_text="A download larger than this is aborted and recorded as failed.",
    )

    class Meta:
        verbose_name_plural = "backup policies"
        constraints = [models.UniqueConstraint(fields=["organization"], name="backup_policy_one_per_org")]

    def __str__(self) -> str:
        return f"Backup policy of {self.organization}"

    def get_absolute_url(self) -> str:
        return reverse("appliances:backup_policy_edit", args=[self.pk])

    @property
    def max_backup_bytes(self) -> int:
        return self.max_backup_mb * 1024 * 1024


class BackupStatus(models.TextChoices):
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class BackupTrigger(models.TextChoices):
    MANUAL = "manual", "On demand"
    SCHEDULED = "scheduled", "Scheduled"


class BackupFailure(models.TextChoices):
    NO_PERMISSION = "no_permission", "The API account may not download backups"
    UNREACHABLE = "unreachable", "Appliance unreachable"
    TLS = "tls", "TLS verification failed"
    AUTH = "auth", "API credentials rejected"
    NOT_A_BACKUP = "not_a_backup", "The answer is not a backup"
    WRONG_APPLIANCE = "wrong_appliance", "The backup is of another appliance"
    TOO_LARGE = "too_large", "Larger than the size cap"
    NO_CREDENTIALS = "no_credentials", "No API credentials recorded"
    PASSWORD = "password", "Backup password missing or wrong"


class ConfigurationBackupQuerySet(TenantQuerySet):
    def without_content(self):
        # The encrypted blob is read only for a download: lists must not pull megabytes per row.
        return self.defer("content")

    def good(self):
        return self.filter(status=BackupStatus.SUCCEEDED)


class ConfigurationBackup(TenantModel):
    """One download attempt. A success holds the file, a failure holds the reason; failures never touch
    earlier good backups.

    Storage: the file is Fernet-encrypted into the row (``EncryptedBinaryField``) rather than into files under
    MEDIA_ROOT. Backups are small and capped, the row and its blob commit or roll back together (no orphan or
    half-written file when a download fails or a worker dies), key rotation is covered by
    ``manage.py rotate_field_encryption`` like every other encrypted field, and PostgreSQL backups of the portal
    carry them with no second store to secure. Lists defer the column (``without_content``).
    """

    appliance = models.ForeignKey("appliances.Appliance", on_delete=models.CASCADE, related_name="config_backups")
    status = models.CharField(max_length=16, choices=BackupStatus.choices, db_index=True)
    trigger = models.CharField(max_length=16, choices=BackupTrigger.choices, default=BackupTrigger.MANUAL)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    # Success details.
    size_bytes = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True, verbose_name="SHA-256")
    # Name and type exactly as the appliance gave them: the file itself is opaque to the portal.
    filename = models.CharField(max_length=200, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    with_logged_data = models.BooleanField(default=True)
    # Identity of the appliance when the file was taken (its id and last reported version and build), from the
    # inventory: a vendor backup file is opaque, the portal never reads inside it.
    source_appliance_guid = models.CharField(max_length=32, blank=True, help_text="Appliance id at download time.")
    source_hostname = models.CharField(max_length=253, blank=True)
    software_version = models.CharField(max_length=32, blank=True)
    software_build = models.CharField(max_length=64, blank=True)
    content = EncryptedBinaryField(null=True, editable=False)
    # Failure details.
    failure_kind = models.CharField(max_length=24, choices=BackupFailure.choices, blank=True)
    failure_reason = models.CharField(max_length=500, blank=True)

    objects = ConfigurationBackupQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        get_latest_by = "started_at"
        indexes = [models.Index(fields=["appliance", "status", "-started_at"], name="backup_appliance_recent")]

    def __str__(self) -> str:
        return f"{self.appliance} {self.started_at:%Y-%m-%d %H:%M} ({self.get_status_display().lower()})"

    def get_absolute_url(self) -> str:
        return reverse("appliances:backup_list") + f"?appliance={self.appliance_id}"

    @property
    def succeeded(self) -> bool:
        return self.status == BackupStatus.SUCCEEDED
