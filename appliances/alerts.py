"""The alert kinds the appliances app raises (registered with the portal in ``AppliancesConfig.ready``)."""

from django.db import models


class ApplianceAlertKind(models.TextChoices):
    BACKUP_FAILED = "backup_failed", "Configuration backup failed"
