"""Alert email delivery: one email per alert even when the task and the sweeper pick it at the same time, and
subjects that cannot go into a mail header."""

import threading

import pytest
from django.db import connection, transaction

from failover.alerts import AlertKind
from portal.models import Alert
from portal.services.alerts import UNDELIVERABLE, alert_deliver, alert_raise, alerts_deliver_pending
from tests.factories import AlertFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_alert_being_sent_elsewhere_is_not_sent_twice(mailoutbox):
    alert = AlertFactory(recipients=["noc@example.com"])
    locked, release = threading.Event(), threading.Event()

    def other_sender():
        # Another worker (the task or the sweeper) holding the alert while it talks to the mail server.
        try:
            with transaction.atomic():
                Alert.objects.select_for_update().get(pk=alert.pk)
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=other_sender)
    thread.start()
    try:
        assert locked.wait(10)
        assert alert_deliver(alert_id=alert.pk) is False
        assert alerts_deliver_pending() == 0
        assert mailoutbox == []
    finally:
        release.set()
        thread.join()
    assert alert_deliver(alert_id=alert.pk) is True
    assert alert_deliver(alert_id=alert.pk) is False
    assert len(mailoutbox) == 1


def test_control_characters_are_stripped_from_the_subject(mailoutbox, org_a):
    org_a.alert_recipients = "noc@example.com"
    org_a.save(update_fields=["alert_recipients"])
    alert = alert_raise(organization=org_a, kind=AlertKind.SYNC_STALE, dedup_key="k",
                        subject="Sync stale on appliance\r\nBcc: attacker@example.net\x00", body="b")
    assert alert.subject == "Sync stale on appliance Bcc: attacker@example.net"
    assert alerts_deliver_pending() == 1
    (message,) = mailoutbox
    assert message.subject == "[Failover Portal] Sync stale on appliance Bcc: attacker@example.net"
    assert message.recipients() == ["noc@example.com"]


def test_subject_the_mail_library_refuses_is_a_recorded_permanent_failure(mailoutbox):
    # A row recorded before subjects were cleaned up (or written by other code): sending it can never work.
    alert = AlertFactory(recipients=["noc@example.com"], subject="Sync stale\nBcc: attacker@example.net")

    assert alert_deliver(alert_id=alert.pk) is False  # no exception: the task must not retry it
    alert.refresh_from_db()
    assert alert.delivery_error.startswith(UNDELIVERABLE) and alert.sent_at is None
    assert alerts_deliver_pending() == 0
    assert mailoutbox == []
