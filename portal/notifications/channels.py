"""Sending one message to one channel: Django's email backend (EMAIL_URL) or an Apprise URL.

Apprise (https://github.com/caronc/apprise) speaks Slack, Teams, Matrix, PagerDuty, Opsgenie, ntfy, generic
JSON/XML/form webhooks and about a hundred more from one URL, so the portal carries no per-service code.
Apprise's own retries are off: the delivery rows retry with backoff (``portal.services.notifications``).
"""

import logging
import smtplib
from urllib.parse import urlsplit, urlunsplit

import apprise
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail

from ..models import AlertSeverity, NotificationPurpose
from ..netpolicy import validate_outbound_host

logger = logging.getLogger(__name__)


class DeliveryFailed(Exception):
    """A transient failure: worth retrying."""


class Undeliverable(Exception):
    """The message can never be sent as it is (a header the mail library refuses, a channel that is gone)."""


def _plugin(url: str):
    return apprise.Apprise.instantiate(url, suppress_exceptions=True)


def apprise_url_check(url: str, organization) -> None:
    """A ValidationError unless Apprise understands the URL and its host passes the outbound address policy
    (``portal.netpolicy``, the same rule as appliance hosts): channels are configured by organisation admins, and
    a URL naming 169.254.169.254 or the portal's own loopback would make the workers a client of the portal's
    network. An IP literal is checked here; a host name is not resolved (Apprise connects by itself, so the
    policy cannot be re-checked at connect time: docs/notifications.md)."""
    plugin = _plugin(url)
    if plugin is None:
        raise ValidationError("Apprise does not understand this URL (see https://github.com/caronc/apprise/wiki).")
    try:
        validate_outbound_host(getattr(plugin, "host", None) or "", organization, field="url")
    except ValidationError as exc:
        raise ValidationError(exc.message_dict["url"]) from None


def apprise_url_redacted(url: str) -> str:
    """Scheme and host only, with Apprise's own masking of anything secret in them; the path and query (where
    webhook tokens live) are reduced to an ellipsis."""
    plugin = _plugin(url)
    private = plugin.url(privacy=True) if plugin is not None else url
    parts = urlsplit(private)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    if "@" in parts.netloc:
        netloc = "****@" + netloc
    path = "/…" if parts.path.strip("/") or parts.query else "/"
    return urlunsplit((parts.scheme, netloc, path, "", ""))[:300]


_NOTIFY_TYPE = {AlertSeverity.CRITICAL: apprise.NotifyType.FAILURE, AlertSeverity.WARNING: apprise.NotifyType.WARNING,
                AlertSeverity.INFO: apprise.NotifyType.INFO}


def notify_type(purpose: str, severity: str) -> str:
    if purpose == NotificationPurpose.RESOLVED:
        return apprise.NotifyType.SUCCESS
    return _NOTIFY_TYPE.get(severity, apprise.NotifyType.INFO)


def send_apprise(url: str, *, subject: str, body: str, kind: str) -> None:
    sender = apprise.Apprise()
    if not sender.add(url):
        raise Undeliverable("Apprise does not understand the channel's URL.")
    with apprise.LogCapture(level=logging.WARNING) as captured:
        ok = sender.notify(title=subject, body=body, notify_type=kind, body_format=apprise.NotifyFormat.TEXT)
    if not ok:
        detail = " ".join(line.split(" - ", 2)[-1] for line in captured.getvalue().splitlines()[-3:])
        raise DeliveryFailed(detail or "The service did not accept the message.")


def send_email(recipients: list[str], *, subject: str, body: str) -> None:
    if not recipients:
        raise Undeliverable("No recipients.")
    try:
        send_mail(subject=subject, message=body, from_email=settings.DEFAULT_FROM_EMAIL, recipient_list=recipients)
    except ValueError as exc:  # BadHeaderError and the like: retrying sends nothing more
        raise Undeliverable(str(exc)) from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryFailed(str(exc) or exc.__class__.__name__) from exc
