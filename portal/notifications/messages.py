"""What a message says: for every alert, what happened, the object's state and since when, the next action and
an absolute link; for the message, one signed link that acknowledges everything in it. Plain text: it reads the
same in an email, a chat message and a pager's push."""

from datetime import UTC

from django.utils import timezone

from ..models import AlertSeverity, NotificationPurpose
from .labels import alert_object, alert_summary
from .links import OPEN_PREFIX, absolute, ack_link

SUBJECT_PREFIX = "[Failover Portal]"
MAX_LISTED = 50


def _when(value) -> str:
    return f"{timezone.localtime(value, UTC):%Y-%m-%d %H:%M:%S} UTC" if value else "unknown"


def _alert_block(alert, *, with_body: bool) -> str:
    obj, _ = alert_object(alert)
    summary = alert_summary(alert)
    lines = [f"* [{alert.get_severity_display()}] {alert.subject}"]
    if summary.state:
        lines.append(f"  State: {summary.state} since {_when(summary.since)}")
    lines.append(f"  Raised: {_when(alert.firing_since or alert.created_at)}")
    if summary.next_action:
        lines.append(f"  Next: {summary.next_action}")
    open_line = ""
    if obj is not None and hasattr(obj, "get_absolute_url"):
        open_line = f"{OPEN_PREFIX}{absolute(obj.get_absolute_url())}"
        lines.append(f"  {open_line}")
    lines.append(f"  Alert: {absolute(alert.get_absolute_url())}")
    if with_body and alert.body:
        # The body ends with the same link (alert_raise adds it for the alert page and API): say it once.
        lines.extend("  " + line if line else "" for line in alert.body.strip().splitlines() if line != open_line)
    return "\n".join(lines)


def _subject(purpose: str, alerts: list, group_labels: dict) -> str:
    if purpose == NotificationPurpose.RESOLVED:
        resolutions = {a.resolved_by_id: a.resolved_by for a in alerts if a.resolved_by_id}
        if len(resolutions) == 1:  # one recovery ends them all (an outage's countdown and its overdue phase)
            return f"{SUBJECT_PREFIX} {next(iter(resolutions.values())).subject}"
        return f"{SUBJECT_PREFIX} RESOLVED: {len(alerts)} alerts"
    tag = {NotificationPurpose.REPEAT: "STILL FIRING: ", NotificationPurpose.ESCALATION: "ESCALATED: "}.get(purpose, "")
    if len(alerts) == 1:
        return f"{SUBJECT_PREFIX} {tag}{alerts[0].subject}"
    worst = max(alerts, key=lambda a: AlertSeverity.rank(a.severity))
    about = ", ".join(f"{k}={v}" for k, v in sorted(group_labels.items())) or worst.get_kind_display()
    return f"{SUBJECT_PREFIX} {tag}{len(alerts)} alerts ({about}), e.g. {worst.subject}"


def render(*, purpose: str, alerts: list, group_labels: dict) -> tuple[str, str]:
    """(subject, body) of one message about ``alerts``."""
    subject = _subject(purpose, alerts, group_labels)[:300]
    single = len(alerts) == 1
    parts = []
    if purpose == NotificationPurpose.RESOLVED:
        resolutions = {a.resolved_by_id: a.resolved_by for a in alerts if a.resolved_by_id}
        parts.extend(f"{r.subject}\n{r.body.strip()}" for r in resolutions.values())
        parts.append("Resolved alerts:")
        parts.extend(_alert_block(alert, with_body=False) for alert in alerts[:MAX_LISTED])
    else:
        if purpose == NotificationPurpose.REPEAT:
            parts.append("Still firing and not acknowledged:")
        elif purpose == NotificationPurpose.ESCALATION:
            parts.append("Critical, not acknowledged in time: escalated to this channel.")
        parts.extend(_alert_block(alert, with_body=single) for alert in alerts[:MAX_LISTED])
        if len(alerts) > MAX_LISTED:
            parts.append(f"... and {len(alerts) - MAX_LISTED} more (see the alerts page).")
        firing = [a.pk for a in alerts if a.severity != AlertSeverity.INFO]
        if firing:
            parts.append(f"Acknowledge (stops the repeats): {ack_link(firing)}")
    return subject, "\n\n".join(parts) + "\n"
