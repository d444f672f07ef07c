"""Raising alerts: recorded, deduplicated, throttled, silenced or routed; and acknowledging them.

Every alert source (probe loop, sync watch, certificates, backups) calls ``alert_raise`` with a kind its app
registered (``portal.alerts``); the throttle is per ``dedup_key`` (one condition on one object), so a condition
that persists is recorded at most once per ``throttle`` and two different conditions never suppress each other.
What happens next (silences, routes, groups, messages) is ``portal.services.notifications``.
"""

import logging
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from ..models import Alert, AlertSeverity, AuditAction
from ..notifications.links import OPEN_PREFIX, absolute
from ..permissions import require_role
from .audit import audit_record
from .notification_settings import NOTIFICATION_ROLES
from .notifications import NO_RECIPIENTS, alert_dispatch

logger = logging.getLogger(__name__)

__all__ = ["NO_RECIPIENTS", "alert_raise", "alert_recent", "alerts_acknowledge"]


def alert_recent(*, organization, dedup_key: str, within: timedelta, now=None) -> Alert | None:
    return (
        Alert.objects.filter(organization=organization, dedup_key=dedup_key,
                             created_at__gte=(now or timezone.now()) - within)
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
    """The absolute URL of the alert's object: the alert itself (page, API, every message) says where to act."""
    if obj is None or not hasattr(obj, "get_absolute_url"):
        return ""
    return absolute(obj.get_absolute_url())


def _key_and_parents(dedup_key: str) -> list[str]:
    """``a:b:c`` -> ``["a:b", "a:b:c"]``: the key and the keys it extends (two segments at least, so that
    ``countdown`` alone never joins every pair's outage)."""
    parts = dedup_key.split(":")
    return [":".join(parts[:n]) for n in range(min(2, len(parts)), len(parts) + 1)]


def _open_with_prefixes(organization, prefixes):
    query = Q()
    for prefix in prefixes:
        query |= Q(dedup_key=prefix) | Q(dedup_key__startswith=f"{prefix}:")
    return Alert.objects.filter(query, organization=organization, resolved_at__isnull=True)


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
    resolves: tuple[str, ...] | list[str] = (),
    labels: dict | None = None,
    now=None,
) -> Alert | None:
    """Record an alert unless the same condition was alerted within ``throttle``, and hand it to notification.

    ``scope`` is what the condition is about (a pair), ``target`` the member concerned (an appliance); either may
    be None. ``resolves`` names conditions this alert ends (dedup keys, or their prefixes up to a ``:``): their
    open alerts become resolved, and this alert is what their "resolved" message says. ``labels`` adds routing
    labels to those the alert's objects give. Returns the new alert, or None when throttled. Messages go out
    from the ``portal.flush_alert_groups`` task after the transaction commits: a rolled-back caller notifies
    nobody, and a slow channel never holds up the probe loop or an operation holding a pair's lock.
    """
    now = now or timezone.now()
    link = _link(scope or target)
    if link:
        body = f"{body.rstrip()}\n\n{OPEN_PREFIX}{link}\n"
    with transaction.atomic():
        _serialise_condition(organization.pk, dedup_key)
        if throttle is not None and alert_recent(organization=organization, dedup_key=dedup_key, within=throttle,
                                                 now=now):
            return None
        # The condition's earlier alerts: the same key, or a key this one extends ("countdown:7:1700000000"
        # for "countdown:7:1700000000:late": the same outage, now overdue).
        family = _key_and_parents(dedup_key)
        previous = (Alert.objects.filter(organization=organization, dedup_key__in=family)
                    .order_by("-created_at", "-id").first())
        alert = Alert(
            organization=organization, kind=kind, severity=severity, scope=scope, target=target,
            dedup_key=dedup_key, subject=_single_line(subject)[:300], body=body, firing_since=now,
        )
        if previous is not None and previous.resolved_at is None:
            # The same condition, still open: it keeps its start (escalation counts from it), its
            # acknowledgement (no more messages about it) and its escalation.
            alert.firing_since = previous.firing_since or previous.created_at
            alert.acknowledged_at, alert.acknowledged_by_id = previous.acknowledged_at, previous.acknowledged_by_id
            alert.escalated_at = previous.escalated_at
        resolved = list(_open_with_prefixes(organization, resolves).exclude(dedup_key=dedup_key)) if resolves else []
        if resolved:
            alert.resolved_at = now  # a resolution is over the moment it is raised
        alert.save()
        Alert.objects.filter(organization=organization, dedup_key__in=family, superseded_by__isnull=True,
                             resolved_at__isnull=True).exclude(pk=alert.pk).update(superseded_by=alert)
        if resolved:
            Alert.objects.filter(pk__in=[a.pk for a in resolved]).update(resolved_at=now, resolved_by=alert)
        alert_dispatch(alert=alert, labels=labels, is_resolution=bool(resolved), now=now)
    return alert


def alerts_acknowledge(*, actor, alerts, via: str, now=None) -> int:
    """Acknowledge alerts (``actor`` needs NOTIFICATION_ROLES["acknowledge"]; SYSTEM for the signed link):
    their condition is no longer repeated or escalated, and later alerts of the same
    condition (same dedup key or one extending it, until it resolves) are born acknowledged. Audited once per alert; ``via`` says how
    ("the alerts page", "REST", "the signed link in a message"). Returns how many were newly acknowledged.
    """
    now = now or timezone.now()
    for alert in alerts:
        require_role(actor, alert.organization_id, NOTIFICATION_ROLES["acknowledge"])
    count = 0
    with transaction.atomic():
        for alert in alerts:
            if alert.acknowledged_at is not None:
                continue
            updated = (Alert.objects.filter(organization_id=alert.organization_id, dedup_key=alert.dedup_key,
                                            acknowledged_at__isnull=True)
                       .filter(Q(pk=alert.pk) | Q(resolved_at__isnull=True))
                       .update(acknowledged_at=now, acknowledged_by=actor if getattr(actor, "pk", None) else None))
            if updated:
                count += 1
                audit_record(actor=actor, organization=alert.organization, action=AuditAction.ACTION,
                             verb="acknowledge_alert", obj=alert, summary=f"Acknowledged through {via}.")
    return count
