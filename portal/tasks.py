"""Celery tasks of the portal: alert delivery (thin wrappers that take ids and call services)."""

import smtplib

from celery import shared_task

from .services.alerts import DELIVER_ALERT_TASK, alert_deliver, alerts_deliver_pending


@shared_task(name=DELIVER_ALERT_TASK, ignore_result=True, acks_late=True,
             autoretry_for=(OSError, smtplib.SMTPException), retry_backoff=10, retry_backoff_max=600, max_retries=8)
def deliver_alert(alert_id: int) -> bool:
    return alert_deliver(alert_id=alert_id)


@shared_task(name="portal.deliver_pending_alerts", ignore_result=True)
def deliver_pending_alerts() -> int:
    return alerts_deliver_pending()
