"""Notification plumbing under the alerts: label matchers, channels (Django email and Apprise), message
rendering and signed acknowledgement links. The rules (routing, grouping, silences, delivery) are services in
``portal.services.notifications``; docs/notifications.md describes them."""
