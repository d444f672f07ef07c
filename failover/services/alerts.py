"""Raising alerts: recorded, deduplicated, throttled, then emailed to the organisation's recipients.

Every alert source (probe loop, sync watch, certificates, backups) calls ``alert_raise``; the throttle is
per ``dedup_key`` (one condition on one object), so a condition that persists is repeated at most once per
``throttle`` and two different conditions never suppress each other.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from ..models import Alert, AlertSeverity

logger = logging.getLogger(__name__)


def alert_recent(*, organization, dedup_key: str, within: timedelta) -> Alert | None:
    return (
        Alert.objects.filter(organization=organization, dedup_key=dedup_key, created_at__gte=timezone.now() - within)
        .order_by("-created_at")
        .first()
    )


def alert_raise(
    *,
    organization,
    kind: str,
    dedup_key: str,
    subject: str,
    body: str,
    severity: str = AlertSeverity.WARNING,
    pair=None,
    appliance=None,
    throttle: timedelta | None = timedelta(hours=1),
) -> Alert | None:
    """Record and send an alert unless the same condition was alerted within ``throttle``.

    Returns the new alert, or None when throttled. The email goes out after the transaction commits, so a
    rolled-back caller never notifies anybody.
    """
    with transaction.atomic():
        if throttle is not None and alert_recent(organization=organization, dedup_key=dedup_key, within=throttle):
            return None
        recipients = organization.alert_recipient_list
        alert = Alert.objects.create(
            organization=organization,
            kind=kind,
            severity=severity,
            pair=pair,
            appliance=appliance,
            dedup_key=dedup_key,
            subject=subject[:300],
            body=body,
            recipients=recipients,
        )
        transaction.on_commit(lambda: _deliver(alert.pk))
    return alert


def _deliver(alert_id: int) -> None:
    alert = Alert.objects.get(pk=alert_id)
    if not alert.recipients:
        Alert.objects.filter(pk=alert_id).update(delivery_error="The organisation has no alert recipients.")
        return
    try:
        send_mail(
            subject=f"[Failover Portal] {alert.subject}",
            message=alert.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=alert.recipients,
        )
    except Exception as exc:  # noqa: BLE001 - any mail failure is recorded on the alert, never raised into a probe
        logger.warning("alert %s not delivered: %s", alert_id, exc)
        Alert.objects.filter(pk=alert_id).update(delivery_error=str(exc)[:300])
        return
    Alert.objects.filter(pk=alert_id).update(sent_at=timezone.now())
