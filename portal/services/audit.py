"""Recording audit events. Every service that writes calls ``audit_record``; secrets never reach the log."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from ..fields import is_secret_field
from ..models import AuditAction, AuditEvent

SECRET_MARK = "(secret changed)"


def _plain(value):
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return str(value)


def snapshot(instance: models.Model) -> dict:
    """The instance's concrete field values for a diff; secrets are represented by a marker, never the value."""
    data = {}
    for field in instance._meta.concrete_fields:
        if field.name in ("created_at", "updated_at"):
            continue
        value = getattr(instance, field.attname)
        if is_secret_field(field):
            # A short irreversible marker lets the diff notice a change without storing anything usable.
            data[field.name] = hash(value) if value else None
        else:
            data[field.name] = _plain(value)
    return data


def diff(before: dict, after: dict, instance: models.Model | None = None) -> dict:
    secret_names = set()
    if instance is not None:
        secret_names = {f.name for f in instance._meta.concrete_fields if is_secret_field(f)}
    changes = {}
    for name in sorted(set(before) | set(after)):
        if before.get(name) != after.get(name):
            if name in secret_names:
                changes[name] = SECRET_MARK
            else:
                changes[name] = [before.get(name), after.get(name)]
    return changes


def audit_record(
    *,
    actor,
    organization,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_repr: str = "",
    changes: dict | None = None,
    verb: str = "",
    summary: str = "",
) -> AuditEvent:
    event = audit_event(actor=actor, organization=organization, action=action, obj=obj, object_type=object_type,
                        object_repr=object_repr, changes=changes, verb=verb, summary=summary)
    event.save()
    return event


def audit_event(*, actor, organization, action: str, obj: models.Model | None = None, object_type: str = "",
                object_repr: str = "", changes: dict | None = None, verb: str = "", summary: str = "") -> AuditEvent:
    """The event ``audit_record`` saves, unsaved (for ``bulk_create`` by services that write many rows)."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_repr = object_repr or str(obj)
    actor_name = getattr(actor, "username", "") or "system"
    return AuditEvent(
        organization=organization,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_name=actor_name,
        action=action,
        verb=verb,
        object_type=object_type,
        object_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
        object_repr=object_repr[:200],
        changes=changes or {},
        summary=summary[:500],
    )


def audit_create(*, actor, instance: models.Model, organization=None) -> AuditEvent:
    event = audit_create_event(actor=actor, instance=instance, organization=organization)
    event.save()
    return event


def audit_create_event(*, actor, instance: models.Model, organization=None) -> AuditEvent:
    """The creation event of ``instance`` (its non-empty fields, secrets marked), unsaved."""
    data = {k: v for k, v in snapshot(instance).items() if v not in (None, "", [], {})}
    secret = {f.name for f in instance._meta.concrete_fields if is_secret_field(f)}
    changes = {k: (SECRET_MARK if k in secret else v) for k, v in data.items()}
    return audit_event(
        actor=actor,
        organization=organization if organization is not None else getattr(instance, "organization", None),
        action=AuditAction.CREATE,
        obj=instance,
        changes=changes,
    )


def audit_delete(*, actor, instance: models.Model, organization=None) -> AuditEvent:
    return audit_record(
        actor=actor,
        organization=organization if organization is not None else getattr(instance, "organization", None),
        action=AuditAction.DELETE,
        obj=instance,
    )


def record_login(sender, request, user, **kwargs) -> None:
    audit_record(
        actor=user, organization=None, action=AuditAction.LOGIN, object_type="portal.user",
        object_repr=user.username, summary="Signed in to the web interface",
    )


LOCKOUT_VERB = "sign-in lockout"


def record_lockout(sender, request, username, ip_address, **kwargs) -> None:
    """django-axes locked a username out after too many wrong passwords (site or admin sign-in): a platform-level
    event, since the username may not exist and belongs to no organisation yet. Axes signals again on every
    attempt during the lockout; one event per lockout (username, address, cool-off) is enough."""
    username = (username or "")[:150]
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    if AuditEvent.objects.filter(verb=LOCKOUT_VERB, object_repr=username, changes__ip_address=ip_address,
                                 created_at__gte=since).exists():
        return
    audit_record(
        actor=None, organization=None, action=AuditAction.ACTION, verb=LOCKOUT_VERB, object_type="portal.user",
        object_repr=username, changes={"ip_address": ip_address, "path": request.path},
        summary=f"Sign-in locked after repeated wrong passwords from {ip_address} ({request.path})",
    )
