"""Queue a CSV file for a worker and run it there, for every CSV job of the portal (``portal.models.CsvJob``).

The request checks the file's shape (a clear message in the form) and queues it; the worker claims the job once,
writes its progress as rows are checked (outside the final write's transaction, so the status page shows it), and
records the outcome. The rows themselves are the owning app's business: it passes its importer in.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Protocol

from django.db.models import Q
from django.utils import timezone

from ..models import AuditAction, CsvJob, ImportStatus
from ..queue import enqueue_on_commit
from .audit import audit_record

#: A running job with no progress for this long lost its worker (the final write of 5,000 rows takes minutes).
CSV_JOB_STALE_AFTER = timedelta(minutes=15)


class CsvResult(Protocol):
    created: list
    updated: list
    errors: list[str]

    @property
    def ok(self) -> bool: ...


#: ``importer(actor=, organization=, data=, progress=)``: check every row, then write all of them or none.
Importer = Callable[..., CsvResult]


def csv_job_queue(*, model: type[CsvJob], actor, organization, data: bytes, rows: int, filename: str, task: str,
                  verb: str, noun: str) -> CsvJob:
    """Record the file as a queued job of ``model`` and send ``task`` its id once the transaction commits.
    The caller has checked the actor's role and the file's shape (``rows``: its row count)."""
    job = model.objects.create(organization=organization, requested_by=actor, filename=filename[:255],
                               content=data.decode("utf-8-sig"), total_rows=rows)
    audit_record(actor=actor, organization=organization, action=AuditAction.ACTION, obj=job, verb=verb,
                 summary=f"{rows} {noun} row(s) queued")
    enqueue_on_commit(task, job.pk)
    return job


def csv_job_run(*, job: CsvJob, importer: Importer, verb: str, noun: str) -> CsvJob:
    """The worker's part. Claimed once: a redelivered task finds the job done, or running with recent progress,
    and leaves it. A job whose worker died (no progress for ``CSV_JOB_STALE_AFTER``) is run again from the start,
    which is safe: its writes were one transaction that died with the worker."""
    model = type(job)
    now = timezone.now()
    claimable = Q(status=ImportStatus.QUEUED) | Q(status=ImportStatus.RUNNING,
                                                  updated_at__lt=now - CSV_JOB_STALE_AFTER)
    if not model.objects.filter(claimable, pk=job.pk).update(status=ImportStatus.RUNNING, updated_at=now):
        return job

    def progress(count: int) -> None:
        model.objects.filter(pk=job.pk).update(processed_rows=count, updated_at=timezone.now())

    result = importer(actor=job.requested_by, organization=job.organization, data=job.content.encode(),
                      progress=progress)
    job.refresh_from_db()
    job.status = ImportStatus.SUCCEEDED if result.ok else ImportStatus.FAILED
    job.errors = result.errors
    job.created_count, job.updated_count = len(result.created), len(result.updated)
    job.finished_at = timezone.now()
    job.content = ""
    job.save()
    audit_record(actor=job.requested_by, organization=job.organization, action=AuditAction.ACTION, obj=job,
                 verb=verb, summary=(f"{job.created_count} {noun}(s) created, {job.updated_count} updated" if result.ok
                                     else f"Nothing written: {len(result.errors)} error(s)"))
    return job
