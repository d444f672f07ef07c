"""Configuration backups: download (on demand and scheduled), validate, store encrypted, read back for an
admin, and prune by the organisation's retention policy.

A failed download is recorded as its own row with the reason and alerted; it never replaces, updates or
deletes an earlier good backup, and pruning only ever runs over good backups with ``keep_last >= 1``.
"""

import hashlib
import io
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from portal.models import AuditAction, Role
from portal.permissions import SYSTEM, require_role
from portal.queue import enqueue_on_commit
from portal.services.alerts import alert_raise
from portal.services.audit import audit_record
from portal.services.common import model_create, model_update

from .alerts import ApplianceAlertKind
from .connect import ClientPurpose, appliance_client, purpose_timeout
from .drivers import (
    ApplianceAuthError,
    ApplianceError,
    ApplianceProtocolError,
    ApplianceRefused,
    ApplianceTLSError,
    ApplianceUnreachable,
)
from .models import Appliance, BackupFailure, BackupPolicy, BackupStatus, BackupTrigger, ConfigurationBackup

DOWNLOAD_BACKUP_TASK = "appliances.download_backup"
POLICY_FIELDS = ["scheduled", "interval_hours", "keep_last", "keep_weekly_weeks", "include_logged_data",
                 "max_backup_mb"]
# What certainly is a message and not a backup, whatever content type it came with: an HTML page or an XML
# document (the command API's <error>). A vendor backup is an opaque archive, so nothing else is judged.
_MESSAGE_PREFIXES = (b"<!doctype html", b"<html", b"<?xml", b"<error")


class NotABackup(ValueError):
    pass


def backup_refuse_message(blob: bytes) -> None:
    """Raise ``NotABackup`` when the body certainly is not a backup: empty, an HTML page or an XML document.
    The portal keeps the appliance's file as an opaque blob and never relies on its layout."""
    if not blob:
        raise NotABackup("the answer is empty")
    start = blob[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if start.startswith(_MESSAGE_PREFIXES[:2]):
        raise NotABackup("the answer is an HTML page")
    if start.startswith(_MESSAGE_PREFIXES[2:]):
        raise NotABackup("the answer is an XML document (an error message)")


# -- policy ----------------------------------------------------------------------------------------------


def policy_for(*, organization) -> BackupPolicy:
    """The organisation's policy, or an unsaved one with the defaults (no row needed until someone edits it)."""
    return BackupPolicy.objects.filter(organization=organization).first() or BackupPolicy(organization=organization)


def backup_policy_save(*, actor, organization, data: dict) -> BackupPolicy:
    require_role(actor, organization, Role.ADMIN)
    policy = BackupPolicy.objects.filter(organization=organization).first()
    if policy is None:
        fields = {k: v for k, v in data.items() if k in POLICY_FIELDS}
        return model_create(actor=actor, model=BackupPolicy, data={"organization": organization, **fields})
    return model_update(actor=actor, instance=policy, data=data, fields=POLICY_FIELDS)[0]


# -- download --------------------------------------------------------------------------------------------


def _classify(error: ApplianceError, max_bytes: int) -> tuple[str, str]:
    detail = str(error)
    if isinstance(error, ApplianceAuthError):
        if "403" in detail or "permission" in detail.lower():
            return BackupFailure.NO_PERMISSION, (
                "The appliance refused the backup: its API account lacks the backup permission. "
                f"Allow backups for this account on the appliance. ({detail})"
            )
        return BackupFailure.AUTH, f"The appliance rejected the portal's API credentials. ({detail})"
    if isinstance(error, ApplianceRefused) and ("password" in detail.lower() or "credentials" in detail.lower()):
        return BackupFailure.PASSWORD, (
            "The appliance asks for its backup password and the portal's is missing or wrong: enter the backup "
            f"password on the appliance's page. ({detail})"
        )
    if isinstance(error, ApplianceUnreachable):
        return BackupFailure.UNREACHABLE, f"The appliance could not be reached. ({detail})"
    if isinstance(error, ApplianceTLSError):
        return BackupFailure.TLS, f"The appliance's TLS certificate could not be verified. ({detail})"
    if isinstance(error, ApplianceProtocolError) and "byte limit" in detail:
        return BackupFailure.TOO_LARGE, f"The backup is larger than the {max_bytes // (1024 * 1024)} MiB cap. ({detail})"
    return BackupFailure.NOT_A_BACKUP, f"The appliance did not answer with a backup file. ({detail})"


@transaction.atomic
def _record_failure(*, actor, appliance: Appliance, trigger: str, started_at: datetime, kind: str, reason: str):
    backup = ConfigurationBackup.objects.create(
        organization_id=appliance.organization_id,
        appliance=appliance,
        status=BackupStatus.FAILED,
        trigger=trigger,
        requested_by=actor if getattr(actor, "pk", None) else None,
        started_at=started_at,
        finished_at=timezone.now(),
        failure_kind=kind,
        failure_reason=reason[:500],
    )
    audit_record(
        actor=actor, organization=appliance.organization, action=AuditAction.ACTION, obj=appliance, verb="backup",
        summary=f"Configuration backup failed: {reason}",
    )
    alert_raise(
        organization=appliance.organization,
        kind=ApplianceAlertKind.BACKUP_FAILED,
        dedup_key=f"backup_failed:{appliance.pk}:{kind}",
        subject=f"Configuration backup of {appliance} failed ({BackupFailure(kind).label})",
        body=(
            f"The portal could not download the configuration backup of {appliance} "
            f"({appliance.management_host}:{appliance.management_port}).\n\n{reason}\n\n"
            "Earlier good backups are kept."
        ),
        target=appliance,
    )
    return backup


def backup_download(*, actor, appliance: Appliance, trigger: str = BackupTrigger.MANUAL) -> ConfigurationBackup:
    """Download, check and store one backup of ``appliance``. Returns the recorded attempt (failed or not).

    Not one transaction: the download may take minutes and must not hold a database transaction open; each
    outcome is written atomically once the bytes are in hand.
    """
    require_role(actor, appliance.organization_id, Role.OPERATOR)
    policy = policy_for(organization=appliance.organization)
    started_at = timezone.now()
    if not appliance.client_id:
        return _record_failure(
            actor=actor, appliance=appliance, trigger=trigger, started_at=started_at, kind=BackupFailure.NO_CREDENTIALS,
            reason="No API account is recorded for this appliance, so the portal cannot ask it for a backup.",
        )
    sink = io.BytesIO()  # bounded by max_bytes: the driver aborts the transfer beyond it
    try:
        download = appliance_client(appliance, purpose=ClientPurpose.BACKUP).download_backup(
            sink, max_bytes=policy.max_backup_bytes, timeout=purpose_timeout(ClientPurpose.BACKUP),
            password=appliance.backup_password, include_logged_data=policy.include_logged_data,
        )
    except ApplianceError as error:
        kind, reason = _classify(error, policy.max_backup_bytes)
        return _record_failure(
            actor=actor, appliance=appliance, trigger=trigger, started_at=started_at, kind=kind, reason=reason
        )
    blob = sink.getvalue()
    try:
        backup_refuse_message(blob)
    except NotABackup as exc:
        return _record_failure(
            actor=actor, appliance=appliance, trigger=trigger, started_at=started_at, kind=BackupFailure.NOT_A_BACKUP,
            reason=f"The appliance answered {len(blob)} bytes that are not a configuration backup: {exc}.",
        )
    return _record_success(actor=actor, appliance=appliance, trigger=trigger, started_at=started_at, blob=blob,
                           download=download, with_logged_data=policy.include_logged_data)


@transaction.atomic
def _record_success(*, actor, appliance, trigger, started_at, blob: bytes, download, with_logged_data: bool):
    backup = ConfigurationBackup.objects.create(
        organization_id=appliance.organization_id,
        appliance=appliance,
        status=BackupStatus.SUCCEEDED,
        trigger=trigger,
        requested_by=actor if getattr(actor, "pk", None) else None,
        started_at=started_at,
        finished_at=timezone.now(),
        size_bytes=len(blob),
        sha256=hashlib.sha256(blob).hexdigest(),
        filename=(download.filename or f"{appliance.name}.nsb")[:200],
        content_type=(download.content_type or "")[:100],
        with_logged_data=with_logged_data,
        source_appliance_guid=appliance.appliance_guid,
        source_hostname=appliance.management_host,
        software_version=appliance.product_version,
        software_build=appliance.build,
        content=blob,
    )
    audit_record(
        actor=actor, organization=appliance.organization, action=AuditAction.ACTION, obj=appliance, verb="backup",
        summary=f"Configuration backup downloaded ({len(blob)} bytes, SHA-256 {backup.sha256[:16]}…)",
    )
    return backup


def backup_read(*, actor, backup: ConfigurationBackup) -> bytes:
    """The decrypted file, for an organisation admin only; every read is audited and its checksum verified."""
    require_role(actor, backup.organization_id, Role.ADMIN)
    if backup.status != BackupStatus.SUCCEEDED:
        raise ValueError("A failed backup attempt has no file.")
    blob = ConfigurationBackup.objects.values_list("content", flat=True).get(pk=backup.pk)
    blob = bytes(blob)
    if hashlib.sha256(blob).hexdigest() != backup.sha256:
        raise ValueError("The stored backup does not match its checksum.")
    audit_record(
        actor=actor, organization=backup.organization, action=AuditAction.ACTION, obj=backup, verb="download",
        summary=f"Configuration backup of {backup.appliance} downloaded by {getattr(actor, 'username', 'system')}",
    )
    return blob


def backup_request(*, actor, appliance: Appliance) -> None:
    """An operator asks for a backup now: queued for a worker (a download can take minutes)."""
    require_role(actor, appliance.organization_id, Role.OPERATOR)
    audit_record(
        actor=actor, organization=appliance.organization, action=AuditAction.ACTION, obj=appliance,
        verb="backup requested", summary="Configuration backup requested",
    )
    enqueue_on_commit(DOWNLOAD_BACKUP_TASK, appliance.pk, BackupTrigger.MANUAL, getattr(actor, "pk", None))


# -- retention -------------------------------------------------------------------------------------------


def retained_ids(rows: list[tuple[int, datetime]], *, keep_last: int, keep_weekly_weeks: int, now: datetime) -> set[int]:
    """Which of one appliance's good backups (id, started_at) to keep: the newest ``keep_last``, plus the
    newest of each ISO week among the last ``keep_weekly_weeks`` weeks."""
    ordered = sorted(rows, key=lambda row: (row[1], row[0]), reverse=True)
    keep = {pk for pk, _ in ordered[: max(keep_last, 1)]}
    horizon = now - timedelta(weeks=keep_weekly_weeks)
    seen_weeks = set()
    for pk, started_at in ordered:
        if started_at < horizon:
            break
        week = started_at.isocalendar()[:2]
        if week not in seen_weeks:
            seen_weeks.add(week)
            keep.add(pk)
    return keep


@transaction.atomic
def backup_prune(*, organization, now: datetime | None = None) -> int:
    """Apply the retention policy to every appliance of ``organization``; returns how many rows went."""
    now = now or timezone.now()
    policy = policy_for(organization=organization)
    by_appliance: dict[int, list[tuple[int, datetime]]] = {}
    rows = ConfigurationBackup.objects.filter(organization=organization, status=BackupStatus.SUCCEEDED).values_list(
        "id", "appliance_id", "started_at"
    )
    for pk, appliance_id, started_at in rows:
        by_appliance.setdefault(appliance_id, []).append((pk, started_at))
    doomed = []
    for backups in by_appliance.values():
        keep = retained_ids(backups, keep_last=policy.keep_last, keep_weekly_weeks=policy.keep_weekly_weeks, now=now)
        doomed.extend(pk for pk, _ in backups if pk not in keep)
    # Failed attempts are evidence for a while, then noise.
    failure_horizon = now - timedelta(weeks=max(policy.keep_weekly_weeks, 2))
    failures = ConfigurationBackup.objects.filter(
        organization=organization, status=BackupStatus.FAILED, started_at__lt=failure_horizon
    )
    deleted_failures, _ = failures.delete()
    deleted_good, _ = ConfigurationBackup.objects.filter(pk__in=doomed).delete()
    if deleted_good or deleted_failures:
        audit_record(
            actor=SYSTEM, organization=organization, action=AuditAction.DELETE, object_type="appliances.configurationbackup",
            object_repr="configuration backups", verb="prune",
            summary=f"Retention removed {deleted_good} backup(s) and {deleted_failures} failed attempt(s) "
            f"(keep last {policy.keep_last}, weekly for {policy.keep_weekly_weeks} weeks)",
        )
    return deleted_good + deleted_failures
