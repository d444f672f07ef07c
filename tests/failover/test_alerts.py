"""Alerts with real email (Django's locmem backend): countdown series, recovery, stale sync, throttling,
and tenant isolation of the alert list."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from failover.alerts import AlertKind
from failover.models import BackupSettings, PairState
from failover.services.watch import pairs_watch
from portal.models import Alert, Notification, NotificationStatus
from portal.services.alerts import alert_raise
from portal.services.notifications import alerts_deliver_pending, notifications_deliver_due
from tests.factories import AlertFactory
from tests.failover.probing.fleet import fleet_fixture  # noqa: F401  (fixture)
from tests.simulator_profiles import parametrize_profiles

pytestmark = pytest.mark.django_db(transaction=True)


def age_alerts(pair, seconds):
    """Pretend the pair's alerts were sent ``seconds`` earlier (the throttle reads created_at)."""
    for alert in Alert.objects.filter(pair=pair):
        Alert.objects.filter(pk=alert.pk).update(created_at=alert.created_at - timedelta(seconds=seconds))


@pytest.fixture
def outbox(mailoutbox):
    """The mail sent so far, once the delivery work queued by the alerts has run (the test plays the worker
    that runs ``failover.deliver_alert``)."""

    def read():
        alerts_deliver_pending()
        return mailoutbox

    return read


@pytest.fixture
def primary_down(fleet, settings):
    settings.PROBE_FAILURES_TO_DOWN = 1
    settings.PROBE_SUCCESSES_TO_UP = 2
    settings.ALERT_COUNTDOWN_INTERVAL_SECONDS = 60
    pair = fleet.pairs[0]
    BackupSettings.objects.filter(appliance=pair.backup).update(automatic_failover=True, primary_timeout=300)
    fleet.probe()
    fleet.sim.set_fault(pair.primary.management_host, "down")
    fleet.probe()
    assert pair.state == PairState.PRIMARY_UNREACHABLE
    return pair


def test_countdown_series_then_recovery(fleet, primary_down, outbox):
    pair = primary_down
    since = pair.primary_unreachable_since

    assert pairs_watch(now=since + timedelta(seconds=10)) == 1
    assert len(outbox()) == 1
    first = outbox()[0]
    assert sorted(first.to) == ["noc@example.com", "oncall@example.com"]
    assert "down for 10 s" in first.subject and "automatic failover in 4 min 50 s" in first.subject
    assert pair.primary.name in first.body

    # The watch runs every 30 s; inside the countdown interval nothing new goes out.
    assert pairs_watch(now=since + timedelta(seconds=40)) == 0
    assert len(outbox()) == 1

    age_alerts(pair, 61)
    assert pairs_watch(now=since + timedelta(seconds=130)) == 1
    assert "automatic failover in 2 min 50 s" in outbox()[1].subject

    age_alerts(pair, 61)
    pairs_watch(now=since + timedelta(seconds=310))
    assert "failover due" in outbox()[2].subject

    fleet.sim.clear_faults()
    fleet.probe(times=2)
    assert pair.state == PairState.HEALTHY
    assert pairs_watch(now=timezone.now()) == 1
    recovery = outbox()[-1]
    assert "reachable again" in recovery.subject
    assert pairs_watch(now=timezone.now()) == 0  # one recovery email per outage

    alerts = Alert.objects.filter(pair=pair).order_by("created_at")
    assert [a.kind for a in alerts] == [AlertKind.PRIMARY_DOWN_COUNTDOWN] * 3 + [AlertKind.PRIMARY_RECOVERED]
    assert all(a.sent_at and a.recipients for a in alerts)


def test_countdown_without_automatic_failover_says_so(fleet, primary_down, outbox):
    BackupSettings.objects.filter(appliance=primary_down.backup).update(automatic_failover=False)
    pairs_watch(now=primary_down.primary_unreachable_since + timedelta(seconds=5))
    assert "no automatic failover" in outbox()[0].subject
    assert "Automatic failover is off" in outbox()[0].body


def test_countdown_with_unknown_backup_settings_promises_nothing(fleet, primary_down, outbox):
    BackupSettings.objects.filter(appliance=primary_down.backup).update(declared_at=None)
    pairs_watch(now=primary_down.primary_unreachable_since + timedelta(seconds=5))
    assert "automatic failover unknown" in outbox()[0].subject
    assert "are unknown (never read from it nor declared)" in outbox()[0].body


@pytest.mark.parametrize(("portal", "builtin", "declared", "counting", "due"), [
    # Whose automatic failover acts: the countdown and the "failover due" email name it (issue 11, item 7).
    (True, False, True, "automatic failover in 4 min 50 s (the portal's automatic failover)",
     "failover due (the portal's automatic failover)"),
    (False, True, True, "automatic failover in 4 min 50 s ({backup}'s built-in automatic failover)",
     "failover due ({backup}'s built-in automatic failover)"),
    # Both on: the portal stands aside (autofailover_decide, BUILTIN_ON); the appliance's is the one that acts.
    (True, True, True, "automatic failover in 4 min 50 s ({backup}'s built-in automatic failover)",
     "failover due ({backup}'s built-in automatic failover)"),
    (False, False, True, "no automatic failover", "no automatic failover"),
    # The portal's is on but the backup's settings are unknown: the portal does not act on them, so no promise
    # of a failover "in 4 min 50 s" built on the default timeout.
    (True, False, False, "automatic failover unknown", "automatic failover unknown"),
], ids=["portal", "appliance", "both", "neither", "portal-unknown-settings"])
def test_the_countdown_and_failover_due_emails_name_who_fails_over(fleet, primary_down, outbox, portal, builtin,
                                                                    declared, counting, due):
    pair = primary_down
    pair.portal_auto_failover = portal
    pair.save(update_fields=["portal_auto_failover"])
    BackupSettings.objects.filter(appliance=pair.backup).update(
        automatic_failover=builtin, declared_at=timezone.now() if declared else None)
    since = pair.primary_unreachable_since

    pairs_watch(now=since + timedelta(seconds=10))
    subjects = [message.subject for message in outbox()]
    pairs_watch(now=since + timedelta(seconds=310))  # past the backup's primary timeout (300 s)
    subjects = [*subjects, *(message.subject for message in outbox()[len(subjects):])]

    assert len(subjects) == 2
    assert subjects[0].endswith(counting.format(backup=pair.backup.name)), subjects[0]
    assert subjects[1].endswith(due.format(backup=pair.backup.name)), subjects[1]


def test_stale_sync_alert_repeats_at_a_throttled_rate(fleet, settings, outbox):
    settings.ALERT_SYNC_STALE_REPEAT_SECONDS = 6 * 3600
    fleet.probe()
    pair = fleet.pairs[1]
    later = pair.last_sync_at + timedelta(seconds=pair.sync_stale_after + 600)

    assert pairs_watch(now=pair.last_sync_at + timedelta(hours=1)) == 0
    sent = pairs_watch(now=later)
    assert sent == len(fleet.pairs)  # every pair of the fleet last synced when the simulator started
    # The whole fleet's stale syncs make one message (the default route groups by kind), naming every pair.
    (message,) = outbox()
    assert f"{len(fleet.pairs)} alerts (kind=sync_stale)" in message.subject
    assert all(f"{p.site_hostname}: data sync stale" in message.body for p in fleet.pairs)

    assert pairs_watch(now=later + timedelta(minutes=30)) == 0  # throttled
    age_alerts(pair, 6 * 3600 + 1)
    assert pairs_watch(now=later + timedelta(hours=6)) == 1
    assert len(outbox()) == 2 and f"{pair.site_hostname}: data sync stale" in outbox()[1].body


def test_alert_without_recipients_is_recorded_as_undelivered(fleet, primary_down, outbox):
    fleet.organization.alert_recipients = ""
    fleet.organization.save(update_fields=["alert_recipients"])
    primary_down.organization.refresh_from_db()
    pairs_watch(now=primary_down.primary_unreachable_since + timedelta(seconds=5))
    alert = Alert.objects.get(pair=primary_down)
    assert outbox() == []
    assert alert.sent_at is None and "no alert recipients" in alert.delivery_error


def test_a_tenant_sees_only_its_own_alerts(org_a, org_b, make_member, login, api_as):
    mine = AlertFactory(organization=org_a, pair__organization=org_a, subject="alpha primary down")
    theirs = AlertFactory(organization=org_b, pair__organization=org_b, subject="bravo primary down")
    user = make_member(org_a)

    page = login(user).get(reverse("failover:alert_list"))
    assert page.status_code == 200
    assert mine.subject in page.content.decode() and theirs.subject not in page.content.decode()

    api = api_as(user)
    listed = api.get("/api/v1/alerts/").json()
    subjects = [row["subject"] for row in listed.get("results", listed)]
    assert subjects == [mine.subject]
    assert api.get(f"/api/v1/alerts/{theirs.pk}/").status_code == 404


@pytest.mark.django_db(transaction=False)  # inside the test's transaction, so the on-commit hand-off is visible
def test_alert_email_waits_for_the_worker_and_a_failed_delivery_is_retried(org_a, settings, mailoutbox,
                                                                           django_capture_on_commit_callbacks):
    org_a.alert_recipients = "noc@example.com"
    org_a.save()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        alert = alert_raise(organization=org_a, kind=AlertKind.SYNC_STALE, dedup_key="k", subject="stale", body="b")
    assert len(callbacks) == 1  # the group flush is queued after commit, nothing is sent by the raiser
    assert mailoutbox == []
    settings.EMAIL_BACKEND = "tests.failover.broken_mail.RefusingBackend"
    assert alerts_deliver_pending() == 0
    alert.refresh_from_db()
    assert alert.sent_at is None and "refused" in alert.delivery_error
    (delivery,) = Notification.objects.filter(alerts=alert)
    assert delivery.status == NotificationStatus.RETRYING and delivery.attempts == 1
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert alerts_deliver_pending() == 0  # the backoff is not over yet
    assert notifications_deliver_due(now=delivery.next_attempt_at) == 1
    alert.refresh_from_db()
    assert alert.sent_at is not None and alert.delivery_error == ""
    assert [m.subject for m in mailoutbox] == ["[Failover Portal] stale"]
    assert alerts_deliver_pending(now=delivery.next_attempt_at + timedelta(hours=1)) == 0  # sent once


def _countdown(pair, *, days_ago: float):
    since = timezone.now() - timedelta(days=days_ago)
    alert = AlertFactory(pair=pair, kind=AlertKind.PRIMARY_DOWN_COUNTDOWN,
                         dedup_key=f"countdown:{pair.pk}:{int(since.timestamp())}")
    Alert.objects.filter(pk=alert.pk).update(created_at=since)


def test_the_recovery_scan_reads_recent_outages_only(fleet):
    fleet.probe()
    first = fleet.pairs[0]
    _countdown(first, days_ago=30)  # long past: no "reachable again" email a month late
    assert pairs_watch(now=timezone.now()) == 0
    assert not Alert.objects.filter(kind=AlertKind.PRIMARY_RECOVERED).exists()

    for pair in fleet.pairs:
        _countdown(pair, days_ago=0.01)
    assert pairs_watch(now=timezone.now()) == len(fleet.pairs)
    recovered = Alert.objects.filter(kind=AlertKind.PRIMARY_RECOVERED)
    assert {alert.dedup_key.split(":")[1] for alert in recovered} == {str(pair.pk) for pair in fleet.pairs}


parametrize_profiles(globals(), "fleet")
