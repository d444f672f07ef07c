"""Absolute links in messages, and the signed acknowledgement link (django.core.signing: no table of tokens;
the signature, the salt and the age limit are the whole check)."""

from django.conf import settings
from django.core import signing
from django.urls import reverse

ACK_SALT = "portal.alert-acknowledge"
# How a body or message names the page of the alert's object.
OPEN_PREFIX = "Open: "


def absolute(path: str) -> str:
    """PORTAL_BASE_URL is the address people open the portal at (a message is read far from the request)."""
    return settings.PORTAL_BASE_URL.rstrip("/") + path


def ack_token(alert_ids: list[int]) -> str:
    return signing.dumps({"alerts": sorted(alert_ids)}, salt=ACK_SALT, compress=True)


def ack_link(alert_ids: list[int]) -> str:
    return absolute(reverse("portal:alert_ack_link", args=[ack_token(alert_ids)]))


def ack_token_alert_ids(token: str) -> list[int]:
    """The alert ids a token acknowledges; raises ``signing.BadSignature`` (or ``SignatureExpired``)."""
    data = signing.loads(token, salt=ACK_SALT, max_age=settings.ALERT_ACK_LINK_MAX_AGE_SECONDS)
    ids = data.get("alerts") if isinstance(data, dict) else None
    if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
        raise signing.BadSignature("Malformed acknowledgement token.")
    return ids
