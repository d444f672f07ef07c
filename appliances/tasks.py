"""Celery tasks of the appliances app: thin wrappers that take ids and call services."""

from celery import shared_task
from django.contrib.auth import get_user_model

from portal.models import Organization
from portal.permissions import SYSTEM

from .backups import DOWNLOAD_BACKUP_TASK, backup_download, backup_prune
from .connection import capabilities_refresh
from .csv_io import RUN_IMPORT_TASK, appliance_import_run
from .models import Appliance, ApplianceImport, BackupTrigger
from .selectors import backups_due


# Idempotent enough to run twice after a worker crash (acks_late): a second download only adds one more good
# backup, which retention removes. Appliance errors are recorded by the service, not retried here.
@shared_task(name=DOWNLOAD_BACKUP_TASK, acks_late=True)
def download_backup(appliance_id: int, trigger: str = BackupTrigger.SCHEDULED, actor_id: int | None = None) -> str:
    appliance = Appliance.objects.select_related("organization").filter(pk=appliance_id).first()
    if appliance is None:
        return "gone"
    # The person who asked (checked when asking); the system for scheduled backups, or when that person's account
    # is gone by the time a worker gets to it.
    actor = (get_user_model().objects.filter(pk=actor_id).first() if actor_id else None) or SYSTEM
    return backup_download(actor=actor, appliance=appliance, trigger=trigger).status


@shared_task(name="appliances.scheduled_backups", acks_late=True)
def scheduled_backups() -> int:
    due = backups_due()
    for appliance_id in due:
        download_backup.delay(appliance_id, BackupTrigger.SCHEDULED)
    return len(due)


@shared_task(name="appliances.prune_backups", acks_late=True)
def prune_backups() -> int:
    return sum(backup_prune(organization=organization) for organization in Organization.objects.all())


# Idempotent: the service claims a queued import once; a redelivered task finds it running or done.
@shared_task(name=RUN_IMPORT_TASK, acks_late=True)
def run_appliance_import(import_id: int) -> str:
    job = ApplianceImport.objects.select_related("organization", "requested_by").filter(pk=import_id).first()
    if job is None:
        return "gone"
    return appliance_import_run(job=job).status


@shared_task(name="appliances.refresh_capabilities", acks_late=True)
def refresh_capabilities() -> int:
    return capabilities_refresh()
