"""From a raised alert to messages: Apprise to a real webhook receiver, email to a real SMTP server, grouping,
repeats, acknowledgement (signed link), escalation, resolved messages, retries; time passed as ``now``."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from failover.alerts import AlertKind
from portal.models import (
    Alert,
    AuditEvent,
    ChannelKind,
    Notification,
    NotificationPurpose,
    NotificationStatus,
    Role,
)
from portal.notifications.links import ack_token
from portal.services.alerts import alert_raise, alerts_acknowledge
from portal.services.notification_settings import channel_create, route_save
from portal.services.notifications import alerts_deliver_pending, notification_deliver
from tests.factories import PairFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def admin(org_a, make_member):
    return make_member(org_a, Role.ADMIN)


@pytest.fixture
def hook_route(org_a, admin, webhook):
    """Critical alerts to the webhook, one message per kind, Alertmanager-like timing."""
    channel = channel_create(actor=admin, organization=org_a, name="noc-webhook", kind=ChannelKind.APPRISE,
                             url=webhook.url)
    route = route_save(actor=admin, organization=org_a, data={
        "name": "critical", "matchers": [{"label": "severity", "op": "=", "value": "critical"}],
        "channels": [channel], "group_by": ["kind"], "group_wait": 30, "group_interval": 300,
        "repeat_interval": 3600})
    return route


def test_webhook_receives_one_message_for_thirty_pairs_after_the_group_wait(org_a, hook_route, webhook, settings,
                                                                            raise_down):
    settings.PORTAL_BASE_URL = "https://portal.example.net"
    now = timezone.now()
    pairs = PairFactory.create_batch(30, organization=org_a)
    for pair in pairs:
        raise_down(pair, now=now)

    assert alerts_deliver_pending(now=now + timedelta(seconds=10)) == 0  # still in the group wait
    assert webhook.posts == []
    assert alerts_deliver_pending(now=now + timedelta(seconds=31)) == 1
    (post,) = webhook.posts
    assert post["type"] == "failure"  # Apprise's type for a critical alert
    assert f"30 alerts (kind={AlertKind.PRIMARY_DOWN_COUNTDOWN.value})" in post["title"]
    for pair in pairs:
        assert f"https://portal.example.net/failover/pairs/{pair.pk}/" in post["message"]
    assert "Acknowledge (stops the repeats): https://portal.example.net/alerts/ack/" in post["message"]
    assert Alert.objects.filter(organization=org_a, sent_at__isnull=False).count() == 30


def test_message_says_state_since_and_next_action(org_a, hook_route, webhook, raise_down, settings):
    settings.PORTAL_BASE_URL = "https://portal.example.net"
    pair = PairFactory(organization=org_a, state="primary_unreachable", state_since=timezone.now())
    alert = raise_down(pair)
    alerts_deliver_pending(now=alert.created_at + timedelta(seconds=31))
    message = webhook.posts[0]["message"]
    assert "State: Primary unreachable since" in message
    assert "Next: Watch the countdown on the pair page" in message
    assert f"Open: https://portal.example.net{pair.get_absolute_url()}" in message


def test_default_route_emails_through_a_real_smtp_server(pairs, smtp_server, raise_down, settings):
    settings.PORTAL_BASE_URL = "https://portal.example.net"
    raise_down(pairs[0])
    assert alerts_deliver_pending() == 1  # tests' default group wait is 0
    (mail,) = smtp_server.messages
    assert mail["to"] == ["noc@example.com"]
    assert f"{pairs[0].site_hostname}: primary down" in mail["data"]
    assert f"https://portal.example.net/failover/pairs/{pairs[0].pk}/" in mail["data"]


def test_repeat_until_acknowledged_through_the_signed_link(org_a, hook_route, webhook, raise_down, client):
    pair = PairFactory(organization=org_a)
    start = timezone.now()
    alert = raise_down(pair, now=start)
    alerts_deliver_pending(now=start + timedelta(seconds=31))
    assert len(webhook.posts) == 1
    alerts_deliver_pending(now=start + timedelta(minutes=30))
    assert len(webhook.posts) == 1  # inside the repeat interval
    alerts_deliver_pending(now=start + timedelta(seconds=31 + 3600))
    assert len(webhook.posts) == 2 and "STILL FIRING" in webhook.posts[1]["title"]

    link = f"/alerts/ack/{ack_token([alert.pk])}/"
    assert link in webhook.posts[1]["message"]
    page = client.get(link)  # a mail scanner opening the link acknowledges nothing
    assert page.status_code == 200 and b"not acknowledged" in page.content
    assert Alert.objects.get(pk=alert.pk).acknowledged_at is None
    done = client.post(link)
    assert done.status_code == 200 and b"Acknowledged" in done.content
    assert Alert.objects.get(pk=alert.pk).acknowledged_at is not None
    event = AuditEvent.objects.get(verb="acknowledge_alert")
    assert "signed link" in event.summary and event.organization == org_a

    alerts_deliver_pending(now=start + timedelta(hours=5))
    assert len(webhook.posts) == 2  # no more repeats
    # The same condition raised again is born acknowledged: nobody is told again.
    again = raise_down(pair, now=start + timedelta(hours=5))
    alerts_deliver_pending(now=start + timedelta(hours=6))
    assert again.acknowledged_at is not None and len(webhook.posts) == 2


def test_tampered_or_expired_ack_link_acknowledges_nothing(org_a, hook_route, raise_down, client, settings):
    alert = raise_down(PairFactory(organization=org_a))
    token = ack_token([alert.pk])
    assert client.post(f"/alerts/ack/{token[:-2]}xx/").status_code == 404
    settings.ALERT_ACK_LINK_MAX_AGE_SECONDS = -1
    assert client.post(f"/alerts/ack/{token}/").status_code == 410
    assert Alert.objects.get(pk=alert.pk).acknowledged_at is None


@pytest.fixture
def escalating(org_a, admin, hook_route):
    """The critical route escalates to an on-call email channel after ten minutes."""
    pager = channel_create(actor=admin, organization=org_a, name="pager", kind=ChannelKind.EMAIL,
                           recipients="oncall@example.com")
    return route_save(actor=admin, organization=org_a, route=hook_route,
                      data={"escalation_channel": pager, "escalate_after": 600})


def test_unacknowledged_critical_alert_escalates_once_after_the_delay(org_a, escalating, webhook, smtp_server,
                                                                        raise_down):
    start = timezone.now()
    alert = raise_down(PairFactory(organization=org_a), now=start)
    alerts_deliver_pending(now=start + timedelta(seconds=31))
    alerts_deliver_pending(now=start + timedelta(seconds=599))
    assert smtp_server.messages == []
    alerts_deliver_pending(now=start + timedelta(seconds=601))
    (mail,) = smtp_server.messages
    assert mail["to"] == ["oncall@example.com"] and "ESCALATED" in mail["data"]
    alerts_deliver_pending(now=start + timedelta(seconds=1200))
    assert len(smtp_server.messages) == 1  # once
    assert Alert.objects.get(pk=alert.pk).escalated_at is not None


def test_acknowledged_alert_does_not_escalate(org_a, admin, escalating, smtp_server, raise_down):
    start = timezone.now()
    alert = raise_down(PairFactory(organization=org_a), now=start)
    alerts_deliver_pending(now=start + timedelta(seconds=31))
    alerts_acknowledge(actor=admin, alerts=[alert], via="the alerts page")
    alerts_deliver_pending(now=start + timedelta(seconds=700))
    assert smtp_server.messages == []


def test_recovery_is_the_resolved_message_of_the_outage(org_a, hook_route, webhook, raise_down):
    pair = PairFactory(organization=org_a)
    start = timezone.now()
    down = raise_down(pair, now=start)
    alerts_deliver_pending(now=start + timedelta(seconds=31))
    alert_raise(organization=org_a, kind=AlertKind.PRIMARY_RECOVERED, severity="info", scope=pair,
                dedup_key=f"recovered:{pair.pk}:1", subject=f"{pair.site_hostname}: primary reachable again",
                body="Back.", resolves=[f"countdown:{pair.pk}:1"], now=start + timedelta(minutes=2))
    alerts_deliver_pending(now=start + timedelta(minutes=2))
    assert len(webhook.posts) == 2
    assert webhook.posts[1]["type"] == "success" and "reachable again" in webhook.posts[1]["title"]
    assert Alert.objects.get(pk=down.pk).status == "resolved"
    alerts_deliver_pending(now=start + timedelta(hours=3))
    assert len(webhook.posts) == 2  # a resolved alert is not repeated


def test_failing_channel_retries_with_backoff_and_never_blocks_another(org_a, admin, hook_route, webhook, raise_down,
                                                                        settings):
    dead = channel_create(actor=admin, organization=org_a, name="dead", kind=ChannelKind.APPRISE,
                          url="json://127.0.0.1:9/nothing-listens")
    route_save(actor=admin, organization=org_a, route=hook_route, data={"channels": [dead, *hook_route.channels.all()]})
    start = timezone.now()
    raise_down(PairFactory(organization=org_a), now=start)
    alerts_deliver_pending(now=start + timedelta(seconds=31))
    assert len(webhook.posts) == 1  # the live channel got its message
    failed = Notification.objects.get(channel=dead)
    assert failed.status == NotificationStatus.RETRYING and failed.attempts == 1 and failed.last_error
    first_retry = failed.next_attempt_at
    assert first_retry - (start + timedelta(seconds=31)) == timedelta(seconds=settings.NOTIFY_RETRY_BASE_SECONDS)
    notification_deliver(notification_id=failed.pk, now=first_retry)
    failed.refresh_from_db()
    assert failed.attempts == 2 and failed.next_attempt_at - first_retry == timedelta(
        seconds=2 * settings.NOTIFY_RETRY_BASE_SECONDS)
    settings.NOTIFY_MAX_ATTEMPTS = 3
    notification_deliver(notification_id=failed.pk, now=failed.next_attempt_at)
    failed.refresh_from_db()
    assert failed.status == NotificationStatus.GAVE_UP
    assert len(webhook.posts) == 1


def test_delivery_being_sent_elsewhere_is_not_sent_twice(org_a, hook_route, webhook, raise_down):
    start = timezone.now()
    raise_down(PairFactory(organization=org_a), now=start)
    from portal.services.notifications import alert_groups_flush  # noqa: PLC0415 (the flush alone, no delivery)

    alert_groups_flush(now=start + timedelta(seconds=31))
    (notification,) = Notification.objects.filter(purpose=NotificationPurpose.FIRING)
    locked, release = threading.Event(), threading.Event()

    def other_worker():
        try:
            with transaction.atomic():
                Notification.objects.select_for_update().get(pk=notification.pk)
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert locked.wait(10)
        assert notification_deliver(notification_id=notification.pk) is False
        assert webhook.posts == []
    finally:
        release.set()
        thread.join()
    assert notification_deliver(notification_id=notification.pk) is True
    assert notification_deliver(notification_id=notification.pk) is False
    assert len(webhook.posts) == 1


def test_control_characters_are_stripped_from_the_subject(mailoutbox, pairs):
    alert_raise(organization=pairs[0].organization, kind=AlertKind.SYNC_STALE, dedup_key="k",
                subject="Sync stale on appliance\r\nBcc: attacker@example.net\x00", body="b")
    assert alerts_deliver_pending() == 1
    (message,) = mailoutbox
    assert message.subject == "[Failover Portal] Sync stale on appliance Bcc: attacker@example.net"
