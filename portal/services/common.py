"""Write helpers shared by every app's services (HackSoft styleguide's ``model_update``, plus audit)."""

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from ..bulk import bulk_update_rows
from ..fields import is_secret_field
from ..models import AuditAction, AuditEvent
from .audit import audit_create, audit_create_event, audit_delete, audit_event, audit_record, diff, snapshot

BULK_BATCH_SIZE = 1000


@transaction.atomic
def model_create(*, actor, model: type[models.Model], data: dict) -> models.Model:
    instance = model(**data)
    instance.full_clean()
    instance.save()
    audit_create(actor=actor, instance=instance)
    return instance


def models_build(*, model: type[models.Model], rows: list[dict]) -> tuple[list[models.Model], dict[int, list[str]]]:
    """The unsaved instances of ``rows``, each validated by its fields and ``clean()``, and each invalid row's
    messages by its index (a file's per-row errors). Related objects must be given as instances the caller already
    holds, so foreign keys are not looked up row by row; uniqueness is left to the caller and the database."""
    instances = [model(**data) for data in rows]
    related = [f.name for f in model._meta.concrete_fields if f.is_relation]
    errors = {}
    for index, instance in enumerate(instances):
        try:
            instance.full_clean(exclude=related, validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            errors[index] = exc.messages
    return instances, errors


@transaction.atomic
def models_bulk_create(*, actor, model: type[models.Model], rows: list[dict]) -> list[models.Model]:
    """``model_create`` for many rows: each validated (``models_build``), then inserted and audited in batches (an
    import of 10,000 appliances takes seconds, not minutes); uniqueness is left to the database's constraints,
    whose violation aborts the caller's whole transaction."""
    instances, errors = models_build(model=model, rows=rows)
    if errors:
        raise ValidationError([message for messages in errors.values() for message in messages])
    return models_bulk_insert(actor=actor, instances=instances)


@transaction.atomic
def models_bulk_insert(*, actor, instances: list[models.Model]) -> list[models.Model]:
    """Insert and audit instances of one model that ``models_build`` made and found valid, in batches."""
    if instances:
        type(instances[0]).objects.bulk_create(instances, batch_size=BULK_BATCH_SIZE)
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


@transaction.atomic
def models_bulk_update(*, actor, changes: list[tuple[models.Model, dict]], fields: list[str]) -> list[dict]:
    """``model_update`` for many instances of one model: each instance's ``data`` applied for ``fields``, the
    instance validated by its fields and ``clean()`` (uniqueness is left to the caller and the database), the
    changed columns written in batches and each change audited (one bulk INSERT). The organisation of each
    instance should be loaded already (the audit row names it). Returns each instance's changes. Nothing is
    written when any instance is invalid: the ``ValidationError``'s ``message_dict`` maps the index of each invalid
    one to its messages (a file's per-row errors)."""
    if not changes:
        return []
    model = type(changes[0][0])
    secret_names = {f.name for f in model._meta.concrete_fields if is_secret_field(f)}
    related = [f.name for f in model._meta.concrete_fields if f.is_relation]
    diffs, changed_instances, columns, errors = [], [], set(), {}
    for index, (instance, data) in enumerate(changes):
        before = snapshot(instance)
        for name in fields:
            if name in data and not (name in secret_names and not data[name]):
                setattr(instance, name, data[name])
        try:
            instance.full_clean(exclude=related, validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            errors[index] = exc.messages
        change = diff(before, snapshot(instance), instance)
        diffs.append(change)
        if change:
            changed_instances.append(instance)
            columns.update(f.name for f in model._meta.concrete_fields if f.name in change)
    if errors:
        raise ValidationError(errors)
    if changed_instances:
        # Only the changed columns (as model_update): the probe loop writes status columns on the same rows.
        auto_now = _auto_now_fields(changed_instances[0])
        now = timezone.now()
        for instance in changed_instances:
            for name in auto_now:
                setattr(instance, name, now)
        bulk_update_rows(model, changed_instances, [*sorted(columns), *auto_now])
        AuditEvent.objects.bulk_create([
            audit_event(actor=actor, organization=getattr(instance, "organization", None),
                        action=AuditAction.UPDATE, obj=instance, changes=change)
            for instance, change in zip((i for i, _ in changes), diffs, strict=True) if change],
            batch_size=BULK_BATCH_SIZE)
    return diffs


def _auto_now_fields(instance) -> list[str]:
    return [f.name for f in instance._meta.concrete_fields if getattr(f, "auto_now", False)]


@transaction.atomic
def model_delete(*, actor, instance: models.Model) -> None:
    audit_delete(actor=actor, instance=instance)
    instance.delete()
