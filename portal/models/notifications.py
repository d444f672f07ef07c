"""Notifications, in the small shape of Prometheus Alertmanager.

An ``Alert`` row (``alerts.py``) is one raised condition. What people receive is a ``Notification``: one message
to one ``NotificationChannel``, about the alerts of one ``AlertGroup`` (alerts a ``NotificationRoute`` matched,
grouped by the route's labels, so thirty pairs down together make one message). A ``Silence`` mutes the alerts
its matchers select for a while. docs/notifications.md is the operator's view of all this.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse

from ..fields import EncryptedTextField
from .scoping import TenantModel


class ChannelKind(models.TextChoices):
    #: Django's email backend (EMAIL_URL) to the addresses listed on the channel.
    EMAIL = "email", "Email (the portal's mail server)"
    #: Anything Apprise speaks: Slack, Teams, Matrix, PagerDuty, Opsgenie, ntfy, JSON webhooks, SMTP...
    APPRISE = "apprise", "Apprise URL (chat, paging, webhooks)"


class NotificationChannel(TenantModel):
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=ChannelKind.choices, default=ChannelKind.APPRISE)
    # The Apprise URL holds the service's credentials (webhook tokens, API keys): encrypted, never shown back.
    url = EncryptedTextField(blank=True, help_text="An Apprise URL, e.g. json://hooks.example.com/alerts or "
                             "slack://TokenA/TokenB/TokenC/#noc. Stored encrypted; never shown again.")
    # What may be shown of the URL: its scheme and host with every secret replaced (Apprise's privacy form).
    url_redacted = models.CharField(max_length=300, blank=True)
    recipients = models.TextField(blank=True, help_text="Email channels: one address per line.")
    enabled = models.BooleanField(default=True)
    last_test_at = models.DateTimeField(null=True, blank=True)
    last_test_ok = models.BooleanField(null=True, blank=True)
    last_test_result = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["organization__name", "name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="channel_unique_name_per_org")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("portal:channel_edit", args=[self.pk])

    @property
    def recipient_list(self) -> list[str]:
        return [line.strip() for line in self.recipients.splitlines() if line.strip()]

    @property
    def address_shown(self) -> str:
        return ", ".join(self.recipient_list) if self.kind == ChannelKind.EMAIL else self.url_redacted


class NotificationRoute(TenantModel):
    """A rule: alerts whose labels match every matcher go to ``channels``; the first matching route wins unless
    it says ``continue_matching``. An organisation without routes, or an alert no route matches, goes to the
    organisation's alert recipients by email (the default route)."""

    name = models.CharField(max_length=100)
    position = models.PositiveIntegerField(default=100, help_text="Routes are tried in this order, lowest first.")
    # [{"label": "severity", "op": "=", "value": "critical"}, ...]; see portal.notifications.matchers.
    matchers = models.JSONField(default=list, blank=True)
    channels = models.ManyToManyField(NotificationChannel, related_name="routes", blank=True)
    continue_matching = models.BooleanField(default=False, help_text="Also try the routes after this one.")
    group_by = models.JSONField(default=list, blank=True,
                                help_text="Labels whose values make one group (one message), e.g. kind.")
    group_wait = models.PositiveIntegerField(null=True, blank=True, help_text="Seconds (default from settings).")
    group_interval = models.PositiveIntegerField(null=True, blank=True, help_text="Seconds.")
    repeat_interval = models.PositiveIntegerField(null=True, blank=True, help_text="Seconds.")
    send_resolved = models.BooleanField(default=True)
    escalation_channel = models.ForeignKey(NotificationChannel, on_delete=models.SET_NULL, null=True, blank=True,
                                           related_name="escalating_routes")
    escalate_after = models.PositiveIntegerField(null=True, blank=True,
                                                 help_text="Seconds an unacknowledged critical alert waits.")

    class Meta:
        ordering = ["organization__name", "position", "id"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("portal:route_edit", args=[self.pk])


class Silence(TenantModel):
    matchers = models.JSONField(default=list)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    comment = models.CharField(max_length=300)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        ordering = ["-ends_at", "-id"]
        indexes = [models.Index(fields=["organization", "ends_at"], name="silence_org_ends")]

    def __str__(self) -> str:
        return self.comment

    def get_absolute_url(self) -> str:
        return reverse("portal:silence_list")


class AlertGroup(TenantModel):
    """Alerts one route sends together. ``key`` is the route and the values of its ``group_by`` labels."""

    route = models.ForeignKey(NotificationRoute, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    key = models.CharField(max_length=400)
    labels = models.JSONField(default=dict)
    alerts = models.ManyToManyField("portal.Alert", through="AlertGroupMember", related_name="alert_groups")
    last_notified_at = models.DateTimeField(null=True, blank=True)
    # When the group next has something to do (a wait ending, a repeat, an escalation, a silence ending); null
    # when nothing until an alert joins or resolves. The sweeper reads only the due groups.
    next_flush_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "key"], name="alertgroup_unique_key")]
        indexes = [models.Index(fields=["next_flush_at"], name="alertgroup_due",
                                condition=models.Q(next_flush_at__isnull=False))]

    def __str__(self) -> str:
        return self.key


class AlertGroupMember(models.Model):
    group = models.ForeignKey(AlertGroup, on_delete=models.CASCADE, related_name="members")
    alert = models.ForeignKey("portal.Alert", on_delete=models.CASCADE, related_name="group_memberships")
    notified_at = models.DateTimeField(null=True, blank=True)
    resolved_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "alert"], name="alertgroupmember_unique")]

    def __str__(self) -> str:
        return f"alert {self.alert_id} in group {self.group_id}"


class NotificationPurpose(models.TextChoices):
    FIRING = "firing", "New alerts"
    REPEAT = "repeat", "Repeat (not acknowledged)"
    RESOLVED = "resolved", "Resolved"
    ESCALATION = "escalation", "Escalation"
    TEST = "test", "Test message"


class NotificationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RETRYING = "retrying", "Failed, will retry"
    SENT = "sent", "Sent"
    GAVE_UP = "gave_up", "Failed, gave up"


class Notification(TenantModel):
    """One message to one channel (a delivery). Claimed by one worker at a time (row lock, skip locked), so two
    workers never send it twice; a failure is recorded and retried with backoff without holding up the others."""

    group = models.ForeignKey(AlertGroup, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # Null: the default route (the organisation's alert recipients by email).
    channel = models.ForeignKey(NotificationChannel, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="notifications")
    channel_label = models.CharField(max_length=200)
    # The default route's recipients when it was created (the organisation's list may change before a retry).
    email_to = models.JSONField(default=list, blank=True)
    purpose = models.CharField(max_length=16, choices=NotificationPurpose.choices)
    subject = models.CharField(max_length=300)
    body = models.TextField()
    alerts = models.ManyToManyField("portal.Alert", related_name="notifications", blank=True)
    status = models.CharField(max_length=16, choices=NotificationStatus.choices, default=NotificationStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="notification_due",
                                condition=models.Q(status__in=["pending", "retrying"]))]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} to {self.channel_label}"
