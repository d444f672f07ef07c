"""Raising alerts: recorded, deduplicated, throttled, then emailed to the organisation's recipients.

Every alert source (probe loop, sync watch, certificates, backups) calls ``alert_raise`` with a kind its app
registered (``portal.alerts``); the throttle is
per ``dedup_key`` (one condition on one object), so a condition that persists is repeated at most once per
``throttle`` and two different conditions never suppress each other.
"""

import logging
import smtplib
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.utils import timezone

from ..models import Alert, AlertSeverity
from ..queue import enqueue_on_commit

logger = logging.getLogger(__name__)


def alert_recent(*, organization, dedup_key: str, within: timedelta) -> Alert | None:
    return (
        Alert.objects.filter(organization=organization, dedup_key=dedup_key, created_at__gte=timezone.now() - within)
        .order_by("-created_at")
        .first()
    )


def _serialise_condition(organization_id: int, dedup_key: str) -> None:
    """Two workers raising the same condition at once must not both pass the throttle check: on PostgreSQL a
    transaction-scoped advisory lock on (organisation, key) orders them. SQLite serialises writers already."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"alert:{organization_id}:{dedup_key}"])


def _single_line(text: str) -> str:
    """An email subject is one header line: a newline in it (from an appliance's or operator's text) would make
    the mail library refuse the message, or worse, add a header."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


def _link(obj) -> str:
    """The absolute URL of the alert's object: every email links to what it is about (PORTAL_BASE_URL is the
    address people open the portal at)."""
    if obj is None or not hasattr(obj, "get_absolute_url"):
        return ""
    return settings.PORTAL_BASE_URL.rstrip("/") + obj.get_absolute_url()


def alert_raise(
    *,
    organization,
    kind: str,
    dedup_key: str,
    subject: str,
    body: str,
    severity: str = AlertSeverity.WARNING,
    scope=None,
    target=None,
    throttle: timedelta | None = timedelta(hours=1),
) -> Alert | None:
    """Record an alert unless the same condition was alerted within ``throttle``, and queue its email.

    ``scope`` is what the condition is about (a pair), ``target`` the member concerned (an appliance); either may
    be None. Returns the new alert, or None when throttled. The email is handed to the ``portal.deliver_alert`` task
    after the transaction commits: a rolled-back caller notifies nobody, and a slow mail server never holds up
    the probe loop or an operation holding a pair's lock.
    """
    link = _link(scope or target)
    if link:
        body = f"{body.rstrip()}\n\nOpen: {link}\n"
    with transaction.atomic():
        _serialise_condition(organization.pk, dedup_key)
        if throttle is not None and alert_recent(organization=organization, dedup_key=dedup_key, within=throttle):
            return None
        recipients = organization.alert_recipient_list
        alert = Alert.objects.create(
            organization=organization,
            kind=kind,
            severity=severity,
            scope=scope,
            target=target,
            dedup_key=dedup_key,
            subject=_single_line(subject)[:300],
            body=body,
            recipients=recipients,
            delivery_error="" if recipients else NO_RECIPIENTS,
        )
        if recipients:
            enqueue_on_commit(DELIVER_ALERT_TASK, alert.pk)
    return alert


NO_RECIPIENTS = "The organisation has no alert recipients."
DELIVER_ALERT_TASK = "portal.deliver_alert"
# Deliveries older than this are given up: an alert about a condition from yesterday helps nobody.
DELIVERY_WINDOW = timedelta(hours=6)


#: Prefix of ``delivery_error`` for an alert that can never be sent as it is: the sweeper no longer retries it.
UNDELIVERABLE = "Not deliverable: "


def alert_deliver(*, alert_id: int) -> bool:
    """Send one alert's email. Returns True when sent; a transient failure is recorded on the alert and raised,
    so the task retries it with backoff; a message the mail library refuses is recorded as undeliverable.

    The alert row stays locked while it is sent (a short wait: the SMTP timeout bounds it): the
    ``deliver_alert`` task and the pending-alerts sweeper may both pick the same alert, and only the one that
    holds the lock sends it; the other skips it and then finds it sent.
    """
    failure = None
    with transaction.atomic():
        alert = (Alert.objects.select_for_update(skip_locked=True)
                 .filter(pk=alert_id, sent_at__isnull=True).exclude(delivery_error__startswith=UNDELIVERABLE)
                 .first())
        if alert is None or not alert.recipients:
            return False
        try:
            send_mail(
                subject=f"[Failover Portal] {alert.subject}",
                message=alert.body,
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=alert.recipients,
            )
        except ValueError as exc:  # BadHeaderError and the like: retrying sends nothing more
            logger.warning("alert %s cannot be delivered: %s", alert_id, exc)
            Alert.objects.filter(pk=alert_id).update(delivery_error=(UNDELIVERABLE + str(exc))[:300])
            return False
        except (OSError, smtplib.SMTPException) as exc:
            logger.warning("alert %s not delivered: %s", alert_id, exc)
            Alert.objects.filter(pk=alert_id).update(delivery_error=str(exc)[:300])
            failure = exc
        else:
            Alert.objects.filter(pk=alert_id).update(sent_at=timezone.now(), delivery_error="")
    if failure is not None:
        raise failure  # outside the transaction: the recorded error is kept, the task retries
    return True


def alerts_deliver_pending(*, now=None) -> int:
    """Send every recent alert whose email has not gone out (a lost task message, a mail server that was down):
    run by beat as a sweeper, and by tests in place of the worker."""
    now = now or timezone.now()
    pending = (Alert.objects.filter(sent_at__isnull=True, created_at__gte=now - DELIVERY_WINDOW)
               .exclude(recipients=[]).exclude(delivery_error__startswith=UNDELIVERABLE))
    sent = 0
    for alert_id in pending.values_list("pk", flat=True):
        try:
            sent += alert_deliver(alert_id=alert_id)
        except (OSError, smtplib.SMTPException):
            continue
    return sent
