"""Celery tasks of the portal: notification (thin wrappers that take ids and call services)."""

from celery import shared_task

from .services.notifications import (
    DELIVER_TASK,
    FLUSH_TASK,
    alert_groups_flush,
    alerts_deliver_pending,
    notification_deliver,
)


@shared_task(name=FLUSH_TASK, ignore_result=True)
def flush_alert_groups() -> int:
    return alert_groups_flush()


# Failures are retried by the row's own backoff (next_attempt_at, picked up by the sweeper), not by Celery:
# the row is the one record of what was tried, and a retry survives a lost task message.
@shared_task(name=DELIVER_TASK, ignore_result=True, acks_late=True)
def deliver_notification(notification_id: int) -> bool:
    return notification_deliver(notification_id=notification_id)


@shared_task(name="portal.deliver_pending_alerts", ignore_result=True)
def deliver_pending_alerts() -> int:
    return alerts_deliver_pending()
