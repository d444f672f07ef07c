"""Write helpers shared by every app's services (HackSoft styleguide's ``model_update``, plus audit)."""

from django.db import models, transaction

from ..fields import is_secret_field
from ..models import AuditAction, AuditEvent
from .audit import audit_create, audit_create_event, audit_delete, audit_record, diff, snapshot

BULK_BATCH_SIZE = 1000


@transaction.atomic
def model_create(*, actor, model: type[models.Model], data: dict) -> models.Model:
    instance = model(**data)
    instance.full_clean()
    instance.save()
    audit_create(actor=actor, instance=instance)
    return instance


@transaction.atomic
def models_bulk_create(*, actor, model: type[models.Model], rows: list[dict]) -> list[models.Model]:
    """``model_create`` for many rows: each validated by its fields and ``clean()``, then inserted and audited in
    batches (an import of 10,000 appliances takes seconds, not minutes). Related objects must be given as
    instances the caller already holds, so foreign keys are not looked up row by row; uniqueness is left to the
    database's constraints, whose violation aborts the caller's whole transaction."""
    instances = [model(**data) for data in rows]
    related = [f.name for f in model._meta.concrete_fields if f.is_relation]
    for instance in instances:
        instance.full_clean(exclude=related, validate_unique=False, validate_constraints=False)
    model.objects.bulk_create(instances, batch_size=BULK_BATCH_SIZE)
    AuditEvent.objects.bulk_create([audit_create_event(actor=actor, instance=instance) for instance in instances],
                                   batch_size=BULK_BATCH_SIZE)
    return instances


@transaction.atomic
def model_update(*, actor, instance: models.Model, data: dict, fields: list[str]) -> tuple[models.Model, dict]:
    """Apply ``data`` for ``fields``, validate, save and audit. A blank secret means 'keep the stored one'."""
    before = snapshot(instance)
    secret_names = {f.name for f in instance._meta.concrete_fields if is_secret_field(f)}
    for name in fields:
        if name not in data:
            continue
        if name in secret_names and not data[name]:
            continue
        setattr(instance, name, data[name])
    instance.full_clean()
    changes = diff(before, snapshot(instance), instance)
    if changes:
        # Only the changed columns: the probe loop writes status columns on the same rows concurrently.
        changed_columns = [f.name for f in instance._meta.concrete_fields if f.name in changes]
        instance.save(update_fields=[*changed_columns, *_auto_now_fields(instance)])
        audit_record(
            actor=actor,
            organization=getattr(instance, "organization", None),
            action=AuditAction.UPDATE,
            obj=instance,
            changes=changes,
        )
    return instance, changes


def _auto_now_fields(instance) -> list[str]:
    return [f.name for f in instance._meta.concrete_fields if getattr(f, "auto_now", False)]


@transaction.atomic
def model_delete(*, actor, instance: models.Model) -> None:
    audit_delete(actor=actor, instance=instance)
    instance.delete()
