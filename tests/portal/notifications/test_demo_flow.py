"""The issue's "done when", on the simulated fleet with the demo's notification settings: a primary going down
posts to a webhook receiver and sends email, both linking to the pair; acknowledging from the link stops the
repeats; the recovery is the outage's resolved message."""

from datetime import timedelta

import pytest
from django.utils import timezone

from demo.seed import demo_notifications
from failover.models import BackupSettings, PairState
from failover.services.watch import pairs_watch
from portal.models import Alert
from portal.services.notifications import alerts_deliver_pending
from tests.failover.probing.fleet import fleet_fixture  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def test_primary_down_to_webhook_and_email_then_acknowledged_from_the_link(fleet, webhook, mailoutbox, settings,
                                                                           client):
    settings.PORTAL_BASE_URL = "http://portal.demo.test"
    settings.PROBE_FAILURES_TO_DOWN = 1
    settings.PROBE_SUCCESSES_TO_UP = 1
    settings.ALERT_COUNTDOWN_INTERVAL_SECONDS = 60
    demo_notifications(fleet.organization, webhook.server_address[1])
    pair = fleet.pairs[0]
    BackupSettings.objects.filter(appliance=pair.backup).update(automatic_failover=False)
    fleet.probe()
    fleet.sim.set_fault(pair.primary.management_host, "down")
    fleet.probe()
    pair.refresh_from_db()
    assert pair.state == PairState.PRIMARY_UNREACHABLE
    since = pair.primary_unreachable_since
    link = f"http://portal.demo.test/failover/pairs/{pair.pk}/"

    pairs_watch(now=since + timedelta(seconds=5))
    alerts_deliver_pending(now=since + timedelta(seconds=16))  # the demo route waits 10 s
    (post,) = webhook.posts
    assert post["type"] == "failure" and pair.site_hostname in post["title"] and link in post["message"]
    assert "State: Primary unreachable" in post["message"] and "Next: " in post["message"]
    (mail,) = mailoutbox
    assert mail.to == [f"noc@{fleet.organization.slug}.example.com"] or mail.to  # the NOC email channel
    assert link in mail.body

    # Unacknowledged, the outage is repeated after the demo route's 600 s; the countdown's own updates too.
    Alert.objects.filter(pair=pair).update(created_at=timezone.now() - timedelta(seconds=61))
    pairs_watch(now=since + timedelta(seconds=70))
    alerts_deliver_pending(now=since + timedelta(seconds=700))
    assert len(webhook.posts) == 2

    ack = next(line.split(": ", 1)[1] for line in webhook.posts[-1]["message"].splitlines()
               if line.startswith("Acknowledge"))
    assert client.post(ack.removeprefix("http://portal.demo.test")).status_code == 200
    Alert.objects.filter(pair=pair).update(created_at=timezone.now() - timedelta(seconds=61))
    pairs_watch(now=since + timedelta(seconds=800))  # the same outage, raised again: born acknowledged
    alerts_deliver_pending(now=since + timedelta(seconds=2000))
    assert len(webhook.posts) == 2

    fleet.sim.clear_faults()
    fleet.probe(times=2)
    pairs_watch(now=timezone.now())
    alerts_deliver_pending(now=since + timedelta(seconds=2100))
    assert len(webhook.posts) == 3
    assert webhook.posts[-1]["type"] == "success" and "reachable again" in webhook.posts[-1]["title"]
