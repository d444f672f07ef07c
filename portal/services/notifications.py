"""From a raised alert to messages: silences, routes, groups, repeats, escalation, resolved messages, delivery.

The shape is Prometheus Alertmanager's, kept small (docs/notifications.md):

* ``alert_dispatch`` (at raise time, inside the raiser's transaction): a silence or a registered silencer
  (an open replacement case, a maintenance window) suppresses the alert, recorded with the reason; otherwise the
  organisation's routes are tried in order and the alert joins one group per matched route (the route's id and
  the values of its ``group_by`` labels). No route matching means the default route: the organisation's alert
  recipients by email.
* ``alert_groups_flush(now)`` (beat every few seconds, and queued ``group_wait`` after a raise) turns the
  groups whose ``next_flush_at`` has come into ``Notification`` rows: new alerts after ``group_wait`` (then at most every ``group_interval``), a repeat
  every ``repeat_interval`` while anything is firing and unacknowledged, a resolved message, and an escalation
  to the route's escalation channel for a critical alert unacknowledged after ``escalate_after``.
* ``notification_deliver`` sends one row to one channel: the row is claimed with ``SELECT ... FOR UPDATE SKIP
  LOCKED``, so the task and the sweeper never both send it; a failure is recorded on the row and retried with
  exponential backoff until ``NOTIFY_MAX_ATTEMPTS``; every row is its own message, so one dead channel never
  holds up another.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .. import metrics
from ..alerts import SILENCERS
from ..models import (
    Alert,
    AlertGroup,
    AlertGroupMember,
    AlertSeverity,
    AlertStatus,
    ChannelKind,
    Notification,
    NotificationPurpose,
    NotificationRoute,
    NotificationStatus,
    Silence,
    alert_status,
)
from ..notifications.channels import DeliveryFailed, Undeliverable, notify_type, send_apprise, send_email
from ..notifications.labels import alert_labels
from ..notifications.matchers import all_match
from ..notifications.messages import render
from ..queue import enqueue_on_commit

logger = logging.getLogger(__name__)

NO_RECIPIENTS = "The organisation has no alert recipients."
DEFAULT_ROUTE_LABEL = "Default: alert recipients by email"
FLUSH_TASK = "portal.flush_alert_groups"
DELIVER_TASK = "portal.deliver_notification"


@dataclass(frozen=True)
class Timing:
    group_wait: timedelta
    group_interval: timedelta
    repeat_interval: timedelta


def route_timing(route: NotificationRoute | None) -> Timing:
    def pick(value, setting):
        return timedelta(seconds=value if value is not None else getattr(settings, setting))

    return Timing(
        group_wait=pick(getattr(route, "group_wait", None), "ALERT_GROUP_WAIT_SECONDS"),
        group_interval=pick(getattr(route, "group_interval", None), "ALERT_GROUP_INTERVAL_SECONDS"),
        repeat_interval=pick(getattr(route, "repeat_interval", None), "ALERT_REPEAT_INTERVAL_SECONDS"),
    )


# --- Silences -------------------------------------------------------------------------------------------


def active_silences(*, organization_id: int, now: datetime):
    return Silence.objects.filter(organization_id=organization_id, starts_at__lte=now, ends_at__gt=now)


def silence_matching(labels: dict, silences) -> Silence | None:
    return next((silence for silence in silences if all_match(silence.matchers, labels)), None)


def _suppression(alert: Alert, now: datetime) -> tuple[str, Silence | None]:
    silence = silence_matching(alert.labels, active_silences(organization_id=alert.organization_id, now=now))
    if silence is not None:
        return f"Silenced until {silence.ends_at:%Y-%m-%d %H:%M} UTC: {silence.comment}"[:300], silence
    for silencer in SILENCERS.values():
        reason = silencer(alert)
        if reason:
            return reason[:300], None
    return "", None


# --- Routing --------------------------------------------------------------------------------------------


def routes_matching(*, organization_id: int, labels: dict) -> list[NotificationRoute]:
    matched = []
    for route in NotificationRoute.objects.filter(organization_id=organization_id).order_by("position", "id"):
        if all_match(route.matchers, labels):
            matched.append(route)
            if not route.continue_matching:
                break
    return matched


def _group_for(alert: Alert, route: NotificationRoute | None, now: datetime) -> AlertGroup:
    group_by = list(route.group_by) if route is not None else list(settings.ALERT_DEFAULT_GROUP_BY)
    values = {name: alert.labels.get(name, "") for name in group_by}
    key = f"{route.pk if route else 0}|" + "|".join(f"{k}={v}" for k, v in values.items())
    group, created = AlertGroup.objects.get_or_create(
        organization_id=alert.organization_id, key=key[:400],
        defaults={"route": route, "labels": values, "next_flush_at": now})
    if not created:  # the sweeper looks at it now (and works out the wait)
        AlertGroup.objects.filter(Q(next_flush_at__isnull=True) | Q(next_flush_at__gt=now), pk=group.pk).update(
            next_flush_at=now)
    return group


def alert_dispatch(*, alert: Alert, labels: dict | None, is_resolution: bool, now: datetime) -> None:
    """Label, silence or route one just-raised alert (inside the raiser's transaction)."""
    alert.labels = alert_labels(alert, labels)
    updates = ["labels"]
    metrics.ALERTS_RAISED.inc(kind=alert.kind, severity=alert.severity)
    if is_resolution:
        # Its message is the "resolved" message of the groups that told people about the condition.
        groups = AlertGroup.objects.filter(members__alert__resolved_by=alert, members__notified_at__isnull=False)
        groups.update(next_flush_at=now)
        alert.recipients = sorted({r for a in Alert.objects.filter(resolved_by=alert) for r in a.recipients})
        alert.save(update_fields=[*updates, "recipients"])
        enqueue_on_commit(FLUSH_TASK)
        return
    reason, silence = _suppression(alert, now)
    if reason:
        alert.suppressed_reason, alert.silence = reason, silence
        alert.save(update_fields=[*updates, "suppressed_reason", "silence"])
        metrics.ALERTS_SUPPRESSED.inc(kind=alert.kind)
        return
    routes = routes_matching(organization_id=alert.organization_id, labels=alert.labels)
    if not routes and not alert.organization.alert_recipient_list:
        alert.delivery_error = NO_RECIPIENTS
        alert.save(update_fields=[*updates, "delivery_error"])
        return
    alert.recipients = ([str(channel) for route in routes for channel in route.channels.all()] if routes
                        else alert.organization.alert_recipient_list)
    alert.save(update_fields=[*updates, "recipients"])
    for route in routes or [None]:
        AlertGroupMember.objects.create(group=_group_for(alert, route, now), alert=alert)
    wait = min(route_timing(route).group_wait for route in routes or [None])
    enqueue_on_commit(FLUSH_TASK, countdown=int(wait.total_seconds()))


# --- Groups to messages ---------------------------------------------------------------------------------


def _targets(route: NotificationRoute | None, organization) -> list[tuple]:
    """(channel or None, label, email recipients for the default route)."""
    if route is None:
        return [(None, DEFAULT_ROUTE_LABEL, organization.alert_recipient_list)]
    return [(channel, str(channel), []) for channel in route.channels.filter(enabled=True)]


def _notify(*, group: AlertGroup | None, organization, targets, purpose: str, alerts: list[Alert],
            group_labels: dict, also: list[Alert] = ()) -> list[Notification]:
    """One row per channel; ``also``: alerts the message stands for without listing them (resolutions)."""
    subject, body = render(purpose=purpose, alerts=alerts, group_labels=group_labels)
    created = []
    for channel, label, email_to in targets:
        notification = Notification.objects.create(
            organization=organization, group=group, channel=channel, channel_label=label[:200], email_to=email_to,
            purpose=purpose, subject=subject, body=body)  # no next_attempt_at: due at once
        notification.alerts.set([*alerts, *also])
        enqueue_on_commit(DELIVER_TASK, notification.pk)
        created.append(notification)
    return created


def _firing(alert: Alert) -> bool:
    return alert_status(alert) == AlertStatus.FIRING and alert.severity != AlertSeverity.INFO


def _flush_group(group: AlertGroup, now: datetime) -> list[Notification]:
    route, organization = group.route, group.organization
    timing = route_timing(route)
    targets = _targets(route, organization)
    # The alerts' objects in one query per kind of object (a message names each alert's pair and its state).
    members = list(group.members.select_related("alert", "alert__resolved_by", "alert__organization")
                   .prefetch_related("alert__scope", "alert__target").filter(resolved_notified_at__isnull=True))
    silences = list(active_silences(organization_id=organization.pk, now=now))

    def loud(alert):  # firing, and not silenced since it was raised
        return _firing(alert) and silence_matching(alert.labels, silences) is None

    new = [m for m in members if m.notified_at is None and alert_status(m.alert) == AlertStatus.FIRING
           and silence_matching(m.alert.labels, silences) is None]
    told = [m for m in members if m.notified_at is not None]
    firing = [m for m in told if loud(m.alert)]
    resolved = [m for m in told if m.alert.resolved_at is not None]
    sent: list[Notification] = []
    last = group.last_notified_at
    # The group wait counts from when the condition started (the time the raiser passed).
    started = min((m.alert.firing_since or m.alert.created_at for m in new), default=None)
    if new and ((last is None and started + timing.group_wait <= now)
                or (last is not None and last + timing.group_interval <= now)):
        alerts = [m.alert for m in new] + [m.alert for m in firing]
        sent += _notify(group=group, organization=organization, targets=targets, purpose=NotificationPurpose.FIRING,
                        alerts=alerts, group_labels=group.labels)
        AlertGroupMember.objects.filter(pk__in=[m.pk for m in new]).update(notified_at=now)
        for member in new:
            member.notified_at = now
        group.last_notified_at = now
    elif firing and last is not None and last + timing.repeat_interval <= now:
        sent += _notify(group=group, organization=organization, targets=targets, purpose=NotificationPurpose.REPEAT,
                        alerts=[m.alert for m in firing], group_labels=group.labels)
        group.last_notified_at = now
    if resolved:
        if route is None or route.send_resolved:
            # Listed: the latest alert of each condition (a countdown's earlier updates are in the M2M only).
            latest = [m.alert for m in resolved if not m.alert.superseded_by_id] or [m.alert for m in resolved]
            sent += _notify(group=group, organization=organization, targets=targets,
                            purpose=NotificationPurpose.RESOLVED, alerts=latest,
                            group_labels=group.labels,
                            also=[m.alert for m in resolved if m.alert not in latest]
                            + list({m.alert.resolved_by for m in resolved if m.alert.resolved_by_id}))
        AlertGroupMember.objects.filter(pk__in=[m.pk for m in resolved]).update(resolved_notified_at=now)
    sent += _escalate(group, [m.alert for m in firing], now)
    # Members with nothing more to say: never told and no longer firing (acknowledged, superseded, silenced
    # before the group spoke), or told about an event that never resolves (info). Told members of a condition
    # that may still resolve (acknowledged or superseded ones included) wait for their resolved message.
    pending = [m for m in members if m.notified_at is None and alert_status(m.alert) == AlertStatus.FIRING]
    done = [m for m in members if m not in resolved and m not in pending
            and (m.notified_at is None or m.alert.severity == AlertSeverity.INFO)]
    AlertGroupMember.objects.filter(pk__in=[m.pk for m in done]).update(resolved_notified_at=now)
    group.next_flush_at = _next_due(group, timing, pending, [m for m in members if m.notified_at], silences, now)
    group.save(update_fields=["last_notified_at", "next_flush_at", "updated_at"])
    return sent


def _next_due(group: AlertGroup, timing: Timing, pending, told, silences, now: datetime) -> datetime | None:
    """When this group next has something to do, so that the sweeper reads only the groups that are due:
    a pending alert's wait or interval, a repeat, an escalation, a silence ending. None: nothing until an
    alert joins or resolves (which sets it again)."""
    due, last = [], group.last_notified_at
    for member in [*pending, *[m for m in told if _firing(m.alert)]]:
        silence = silence_matching(member.alert.labels, silences)
        if silence is not None:
            due.append(silence.ends_at)
        elif member in pending:
            due.append((member.alert.firing_since or member.alert.created_at) + timing.group_wait if last is None
                       else last + timing.group_interval)
        else:
            due.append(last + timing.repeat_interval)
            route = group.route
            if (route is not None and route.escalate_after is not None and route.escalation_channel_id
                    and route.escalation_channel.enabled and member.alert.severity == AlertSeverity.CRITICAL
                    and member.alert.escalated_at is None):
                due.append((member.alert.firing_since or member.alert.created_at)
                           + timedelta(seconds=route.escalate_after))
    # Never in the past: something due now that could not be done (a disabled channel) waits a sweep.
    return max(min(due), now + timedelta(seconds=1)) if due else None


def _escalate(group: AlertGroup, firing: list[Alert], now: datetime) -> list[Notification]:
    route = group.route
    if route is None or route.escalation_channel_id is None or route.escalate_after is None:
        return []
    due = [alert for alert in firing if alert.severity == AlertSeverity.CRITICAL and alert.escalated_at is None
           and (alert.firing_since or alert.created_at) + timedelta(seconds=route.escalate_after) <= now]
    if not due or not route.escalation_channel.enabled:
        return []
    Alert.objects.filter(organization=group.organization, dedup_key__in=[a.dedup_key for a in due],
                         escalated_at__isnull=True).update(escalated_at=now)
    for alert in due:
        alert.escalated_at = now
    channel = route.escalation_channel
    return _notify(group=group, organization=group.organization, targets=[(channel, str(channel), [])],
                   purpose=NotificationPurpose.ESCALATION, alerts=due, group_labels=group.labels)


def alert_groups_flush(*, now: datetime | None = None) -> int:
    """Turn the due groups' work into notifications; returns how many were created. Each group is locked (skip
    locked) in its own transaction: two flushes at once share the groups, never send one twice."""
    now = now or timezone.now()
    created = 0
    due = AlertGroup.objects.filter(next_flush_at__lte=now)
    for group_id in due.order_by("next_flush_at").values_list("pk", flat=True):
        with transaction.atomic():
            group = (AlertGroup.objects.select_for_update(skip_locked=True, of=("self",))
                     .select_related("route", "route__escalation_channel", "organization")
                     .filter(pk=group_id, next_flush_at__lte=now).first())
            if group is not None:
                created += len(_flush_group(group, now))
    return created


# --- Delivery -------------------------------------------------------------------------------------------


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff: NOTIFY_RETRY_BASE_SECONDS doubling per attempt, capped at NOTIFY_RETRY_MAX_SECONDS."""
    return timedelta(seconds=min(settings.NOTIFY_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0),
                                 settings.NOTIFY_RETRY_MAX_SECONDS))


def _send(notification: Notification) -> None:
    channel = notification.channel
    if channel is None:
        if not notification.email_to:
            raise Undeliverable("The channel was deleted.")
        send_email(notification.email_to, subject=notification.subject, body=notification.body)
    elif channel.kind == ChannelKind.EMAIL:
        send_email(channel.recipient_list, subject=notification.subject, body=notification.body)
    else:
        severities = [a.severity for a in notification.alerts.all()] or [AlertSeverity.INFO]
        worst = max(severities, key=AlertSeverity.rank)
        send_apprise(channel.url, subject=notification.subject, body=notification.body,
                     kind=notify_type(notification.purpose, worst))


def notification_deliver(*, notification_id: int, now: datetime | None = None) -> bool:
    """Send one notification if it is due and nobody else holds it. Returns True when it went out.

    The row stays locked while it is sent (bounded by the channel's timeouts: EMAIL_TIMEOUT, Apprise's connect
    and read timeouts): the task and the sweeper may both pick it, only the holder sends it.
    """
    now = now or timezone.now()
    with transaction.atomic():
        notification = (Notification.objects.select_for_update(skip_locked=True, of=("self",))
                        .select_related("channel").filter(
                            pk=notification_id, status__in=[NotificationStatus.PENDING, NotificationStatus.RETRYING])
                        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)).first())
        if notification is None:
            return False
        notification.attempts += 1
        started = timezone.now()
        try:
            _send(notification)
        except Undeliverable as exc:
            notification.status, notification.last_error = NotificationStatus.GAVE_UP, str(exc)[:500]
        except DeliveryFailed as exc:
            notification.last_error = str(exc)[:500]
            if notification.attempts >= settings.NOTIFY_MAX_ATTEMPTS:
                notification.status = NotificationStatus.GAVE_UP
            else:
                notification.status = NotificationStatus.RETRYING
                notification.next_attempt_at = now + retry_delay(notification.attempts)
        else:
            notification.status, notification.sent_at, notification.last_error = (
                NotificationStatus.SENT, timezone.now(), "")
        notification.save(update_fields=["status", "attempts", "next_attempt_at", "last_error", "sent_at",
                                         "updated_at"])
        metrics.NOTIFICATIONS.inc(channel_kind=notification.channel.kind if notification.channel else "default",
                                  outcome=notification.status)
        metrics.NOTIFICATION_SECONDS.observe((timezone.now() - started).total_seconds())
        alerts = notification.alerts.all()
        if notification.status == NotificationStatus.SENT:
            alerts.filter(sent_at__isnull=True).update(sent_at=notification.sent_at)
            alerts.update(delivery_error="")
        else:
            logger.warning("notification %s to %s failed: %s", notification.pk, notification.channel_label,
                           notification.last_error)
            alerts.update(delivery_error=f"{notification.channel_label}: {notification.last_error}"[:300])
    return notification.status == NotificationStatus.SENT


def notifications_deliver_due(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    due = (Notification.objects.filter(status__in=[NotificationStatus.PENDING, NotificationStatus.RETRYING])
           .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)).order_by("created_at"))
    return sum(notification_deliver(notification_id=pk, now=now) for pk in due.values_list("pk", flat=True))


def alerts_deliver_pending(*, now: datetime | None = None) -> int:
    """The sweeper (beat every few seconds; tests call it in place of the workers): flush the groups, then send
    every notification that is due (new ones whose task message was lost, failed ones whose backoff is over).
    Returns how many messages went out."""
    alert_groups_flush(now=now)
    return notifications_deliver_due(now=now)
