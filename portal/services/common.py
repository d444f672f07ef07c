"""Write helpers shared by every app's services (HackSoft styleguide's ``model_update``, plus audit)."""

from django.db import models, transaction

from ..fields import is_secret_field
from ..models import AuditAction
from .audit import audit_create, audit_delete, audit_record, diff, snapshot


@transaction.atomic
def model_create(*, actor, model: type[models.Model], data: dict) -> models.Model:
    instance = model(**data)
    instance.full_clean()
    instance.save()
    audit_create(actor=actor, instance=instance)
    return instance


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
