"""Writes of an organisation's notification settings: channels (with their test), routes and silences. Every
write checks the actor's role (admin for channels and routes, operator for silences) and is audited; a channel's
URL is encrypted and never written to the audit log (its field is secret)."""

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ..models import (
    AuditAction,
    ChannelKind,
    Notification,
    NotificationChannel,
    NotificationPurpose,
    NotificationRoute,
    NotificationStatus,
    Role,
    Silence,
)
from ..notifications.channels import (
    DeliveryFailed,
    Undeliverable,
    apprise_url_check,
    apprise_url_redacted,
    notify_type,
    send_apprise,
    send_email,
)
from ..notifications.matchers import LABEL_NAME, matchers_from_json
from ..permissions import require_role
from .audit import audit_record
from .common import model_create, model_delete, model_update

#: Who may do what with notifications (services check it; pages and the API read it).
NOTIFICATION_ROLES = {"channel": Role.ADMIN, "route": Role.ADMIN, "silence": Role.OPERATOR,
                      "acknowledge": Role.OPERATOR}

CHANNEL_FIELDS = ["name", "kind", "url", "recipients", "enabled"]
ROUTE_FIELDS = ["name", "position", "matchers", "continue_matching", "group_by", "group_wait", "group_interval",
                "repeat_interval", "send_resolved", "escalation_channel", "escalate_after"]


def _channel_data(data: dict, instance: NotificationChannel | None, organization) -> dict:
    data = dict(data)
    kind = data.get("kind", instance.kind if instance else ChannelKind.APPRISE)
    url = data.get("url") or ""
    if kind == ChannelKind.APPRISE:
        if url:
            try:
                apprise_url_check(url, organization)
            except ValidationError as exc:
                raise ValidationError({"url": exc.messages}) from exc
            data["url_redacted"] = apprise_url_redacted(url)
        elif instance is None or not instance.url:
            raise ValidationError({"url": "An Apprise channel needs its URL."})
    else:
        recipients = data.get("recipients", instance.recipients if instance else "")
        if not [line for line in recipients.splitlines() if line.strip()]:
            raise ValidationError({"recipients": "An email channel needs at least one address."})
        data["url"], data["url_redacted"] = "", ""
    return data


def channel_create(*, actor, organization, **data) -> NotificationChannel:
    require_role(actor, organization, NOTIFICATION_ROLES["channel"])
    data = _channel_data(data, None, organization)
    return model_create(actor=actor, model=NotificationChannel, data={"organization": organization, **data})


def channel_update(*, actor, channel: NotificationChannel, data: dict) -> NotificationChannel:
    """A blank URL keeps the stored one (it is never shown, so a form cannot send it back)."""
    require_role(actor, channel.organization_id, NOTIFICATION_ROLES["channel"])
    data = _channel_data(data, channel, channel.organization)
    fields = [*CHANNEL_FIELDS, *(["url_redacted"] if "url_redacted" in data else [])]
    return model_update(actor=actor, instance=channel, data=data, fields=fields)[0]


def channel_delete(*, actor, channel: NotificationChannel) -> None:
    require_role(actor, channel.organization_id, NOTIFICATION_ROLES["channel"])
    model_delete(actor=actor, instance=channel)


def channel_test(*, actor, channel: NotificationChannel) -> tuple[bool, str]:
    """Send a test message now (the person waits for the answer: bounded by the channel's timeouts) and record
    it as a delivery of purpose "test", on the channel and in the audit log. Returns (ok, what happened)."""
    require_role(actor, channel.organization_id, NOTIFICATION_ROLES["channel"])
    subject = f"[Failover Portal] Test message for channel “{channel.name}”"
    body = (f"{actor.username} sent this test from the portal's notification settings of {channel.organization} "
            f"at {timezone.now():%Y-%m-%d %H:%M:%S} UTC. Alerts routed to this channel will arrive like this.\n")
    try:
        if channel.kind == ChannelKind.EMAIL:
            send_email(channel.recipient_list, subject=subject, body=body)
        else:
            send_apprise(channel.url, subject=subject, body=body, kind=notify_type(NotificationPurpose.TEST, "info"))
    except (DeliveryFailed, Undeliverable) as exc:
        ok, result = False, f"Failed: {exc}"
    else:
        ok, result = True, f"Delivered to {channel.address_shown}."
    now = timezone.now()
    with transaction.atomic():
        NotificationChannel.objects.filter(pk=channel.pk).update(last_test_at=now, last_test_ok=ok,
                                                                 last_test_result=result[:500])
        Notification.objects.create(
            organization_id=channel.organization_id, channel=channel, channel_label=str(channel)[:200],
            purpose=NotificationPurpose.TEST, subject=subject, body=body, attempts=1, last_error="" if ok else result,
            status=NotificationStatus.SENT if ok else NotificationStatus.GAVE_UP, sent_at=now if ok else None)
        audit_record(actor=actor, organization=channel.organization, action=AuditAction.ACTION,
                     verb="test_channel", obj=channel, summary=result)
    return ok, result


def _route_data(data: dict, organization) -> dict:
    errors = {}
    if "matchers" in data:
        try:
            matchers_from_json(data["matchers"])
        except ValidationError as exc:
            errors["matchers"] = exc.messages
    group_by = data.get("group_by") or []
    if not isinstance(group_by, list) or not all(isinstance(n, str) and LABEL_NAME.match(n) for n in group_by):
        errors["group_by"] = "Label names, e.g. kind, pair."
    channels = data.get("channels") or []
    escalation = data.get("escalation_channel")
    if any(c.organization_id != organization.pk for c in [*channels, *([escalation] if escalation else [])]):
        errors["channels"] = "Channels of this organisation only."
    if escalation is not None and not data.get("escalate_after"):
        errors["escalate_after"] = "Say after how many seconds to escalate."
    if errors:
        raise ValidationError(errors)
    return data


def route_save(*, actor, organization, data: dict, route: NotificationRoute | None = None) -> NotificationRoute:
    require_role(actor, organization, NOTIFICATION_ROLES["route"])
    data = _route_data(dict(data), organization)
    channels = data.pop("channels", None)
    with transaction.atomic():
        if route is None:
            route = model_create(actor=actor, model=NotificationRoute, data={"organization": organization, **data})
        else:
            route = model_update(actor=actor, instance=route, data=data, fields=[f for f in ROUTE_FIELDS
                                                                                 if f in data])[0]
        if channels is not None:
            before = sorted(route.channels.values_list("pk", flat=True))
            route.channels.set(channels)
            if before != sorted(c.pk for c in channels):
                audit_record(actor=actor, organization=organization, action=AuditAction.UPDATE, obj=route,
                             changes={"channels": [before, sorted(c.pk for c in channels)]})
    return route


def route_delete(*, actor, route: NotificationRoute) -> None:
    require_role(actor, route.organization_id, NOTIFICATION_ROLES["route"])
    model_delete(actor=actor, instance=route)


def silence_create(*, actor, organization, matchers: list, ends_at: datetime, comment: str,
                   starts_at: datetime | None = None) -> Silence:
    """Operators silence (they are the ones paged). A silence needs at least one matcher (an empty one would
    mute everything), an end after its start, and at most SILENCE_MAX_SECONDS of length."""
    require_role(actor, organization, NOTIFICATION_ROLES["silence"])
    starts_at = starts_at or timezone.now()
    errors = {}
    try:
        if not matchers_from_json(matchers):
            errors["matchers"] = "At least one matcher: a silence of everything hides every alert."
    except ValidationError as exc:
        errors["matchers"] = exc.messages
    if ends_at <= starts_at:
        errors["ends_at"] = "The end must come after the start."
    elif ends_at - starts_at > timedelta(seconds=settings.SILENCE_MAX_SECONDS):
        errors["ends_at"] = f"A silence lasts at most {settings.SILENCE_MAX_SECONDS // 86400} days."
    if not comment.strip():
        errors["comment"] = "Say why (it is shown on every alert it suppresses)."
    if errors:
        raise ValidationError(errors)
    return model_create(actor=actor, model=Silence, data={
        "organization": organization, "matchers": matchers, "starts_at": starts_at, "ends_at": ends_at,
        "comment": comment.strip(), "created_by": actor if getattr(actor, "pk", None) else None})


def silence_expire(*, actor, silence: Silence) -> Silence:
    require_role(actor, silence.organization_id, NOTIFICATION_ROLES["silence"])
    now = timezone.now()
    if silence.ends_at > now:
        silence, _ = model_update(actor=actor, instance=silence, data={"ends_at": max(now, silence.starts_at)},
                                  fields=["ends_at"])
    return silence
