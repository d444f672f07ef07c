"""Silences: time-boxed, by matcher, created in the UI and over REST, shown on the dashboard; what they
suppress is recorded and reaches nobody. Replacement cases silence their appliance by themselves."""

from datetime import timedelta

import pytest
from django.utils import timezone

from failover.alerts import AlertKind
from portal.models import Alert, AlertStatus, AuditEvent, Notification, Role, Silence
from portal.services.alerts import alert_raise
from portal.services.notification_settings import silence_create
from portal.services.notifications import alerts_deliver_pending
from tests.factories import PairFactory
from tests.factories.rma import RmaCaseFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _matcher(label, value, op="="):
    return {"label": label, "op": op, "value": value}


def test_silence_suppresses_what_it_matches_and_records_it(pairs, make_member, raise_down, mailoutbox):
    operator = make_member(pairs[0].organization, Role.OPERATOR)
    silenced_pair, other_pair = pairs[0], pairs[1]
    silence = silence_create(actor=operator, organization=silenced_pair.organization,
                             matchers=[_matcher("pair", silenced_pair.site_hostname)],
                             ends_at=timezone.now() + timedelta(hours=2), comment="Replacing the uplink")
    quiet, loud = raise_down(silenced_pair), raise_down(other_pair)
    alerts_deliver_pending()
    quiet.refresh_from_db()
    assert quiet.status == AlertStatus.SUPPRESSED and quiet.silence == silence
    assert "Replacing the uplink" in quiet.suppressed_reason
    assert not Notification.objects.filter(alerts=quiet).exists()
    assert len(mailoutbox) == 1 and other_pair.site_hostname in mailoutbox[0].subject
    assert Alert.objects.get(pk=loud.pk).sent_at is not None


def test_silence_ends_on_time(pairs, make_member, raise_down, mailoutbox):
    operator = make_member(pairs[0].organization, Role.OPERATOR)
    pair = pairs[0]
    start = timezone.now()
    silence_create(actor=operator, organization=pair.organization, matchers=[_matcher("kind", ".*", "=~")],
                   starts_at=start, ends_at=start + timedelta(minutes=10), comment="window")
    assert raise_down(pair, now=start + timedelta(minutes=5)).suppressed_reason
    later = raise_down(pair, now=start + timedelta(minutes=11), key="countdown:x:2")
    assert later.suppressed_reason == ""
    alerts_deliver_pending(now=start + timedelta(minutes=11))
    assert len(mailoutbox) == 1


def test_a_firing_alert_silenced_later_is_not_repeated(pairs, make_member, raise_down, mailoutbox, settings):
    settings.ALERT_REPEAT_INTERVAL_SECONDS = 600
    operator = make_member(pairs[0].organization, Role.OPERATOR)
    start = timezone.now()
    raise_down(pairs[0], now=start)
    alerts_deliver_pending(now=start)
    silence_create(actor=operator, organization=pairs[0].organization,
                   matchers=[_matcher("pair", pairs[0].site_hostname)], ends_at=start + timedelta(hours=1),
                   comment="known")
    alerts_deliver_pending(now=start + timedelta(minutes=11))
    assert len(mailoutbox) == 1
    # The silence over, the repeats resume (the group was due again at the silence's end).
    alerts_deliver_pending(now=start + timedelta(hours=1, seconds=1))
    assert len(mailoutbox) == 2 and "STILL FIRING" in mailoutbox[1].subject


@pytest.mark.parametrize("matchers, ends_in, comment, field", [
    ([], timedelta(hours=1), "x", "matchers"),
    ([_matcher("pair", "(")], timedelta(hours=1), "x", "matchers"),  # not a regex... with =, fine; see below
    ([_matcher("pair", "(", "=~")], timedelta(hours=1), "x", "matchers"),
    ([_matcher("pair", "a")], timedelta(hours=-1), "x", "ends_at"),
    ([_matcher("pair", "a")], timedelta(days=400), "x", "ends_at"),
    ([_matcher("pair", "a")], timedelta(hours=1), " ", "comment"),
])
def test_bad_silences_get_field_errors_over_rest(org_a, make_member, api_as, matchers, ends_in, comment, field):
    api = api_as(make_member(org_a, Role.OPERATOR))
    response = api.post("/api/v1/silences/", {
        "organization": org_a.pk, "matchers": matchers, "ends_at": (timezone.now() + ends_in).isoformat(),
        "comment": comment}, format="json")
    if matchers == [_matcher("pair", "(")]:
        assert response.status_code == 201  # "=" compares text: a parenthesis is a fine value
        return
    assert response.status_code == 400 and field in response.json()


def test_silence_over_rest_then_expired(org_a, make_member, api_as, raise_down, mailoutbox):
    org_a.alert_recipients = "noc@example.com"
    org_a.save()
    pair = PairFactory(organization=org_a)
    operator, viewer = make_member(org_a, Role.OPERATOR), make_member(org_a, Role.VIEWER)
    body = {"organization": org_a.pk, "matchers": [_matcher("appliance", pair.primary.name)],
            "ends_at": (timezone.now() + timedelta(hours=1)).isoformat(), "comment": "Moving racks"}
    assert api_as(viewer).post("/api/v1/silences/", body, format="json").status_code == 400  # not a choice
    created = api_as(operator).post("/api/v1/silences/", body, format="json")
    assert created.status_code == 201, created.content
    assert raise_down(pair).suppressed_reason.startswith("Silenced until")
    expired = api_as(operator).post(f"/api/v1/silences/{created.json()['id']}/expire/")
    assert expired.status_code == 200
    assert raise_down(pair, key="countdown:other").suppressed_reason == ""
    assert AuditEvent.objects.filter(object_type="portal.silence").count() == 2  # created, expired


def test_silence_from_the_ui_and_on_the_dashboard(org_a, make_member, login, raise_down):
    pair = PairFactory(organization=org_a)
    alert = raise_down(pair)
    client = login(make_member(org_a, Role.OPERATOR))
    form = client.get(f"/notifications/silences/add/?alert={alert.pk}")
    assert f'pair=&quot;{pair.site_hostname}&quot;' in form.content.decode()
    response = client.post("/notifications/silences/add/", {
        "organization": org_a.pk, "matchers": f'pair="{pair.site_hostname}"',
        "ends_at": (timezone.now() + timedelta(hours=3)).strftime("%Y-%m-%d %H:%M"), "comment": "Planned work"})
    assert response.status_code == 302, response.content
    raise_down(pair, key="countdown:again")
    dashboard = client.get("/").content.decode()
    assert 'id="silences-panel"' in dashboard and "Planned work" in dashboard and "1 suppressed" in dashboard
    bad = client.post("/notifications/silences/add/", {
        "organization": org_a.pk, "matchers": "pair", "ends_at": "2030-01-01 00:00", "comment": "x"})
    assert bad.status_code == 200 and "is not label=value" in bad.content.decode()
    assert Silence.objects.count() == 1


def test_open_replacement_case_silences_its_appliance(pairs, raise_down, mailoutbox):
    pair = pairs[0]
    case = RmaCaseFactory(appliance=pair.primary, pair=pair)
    alert = raise_down(pair)
    assert alert.suppressed_reason == f"Covered by open replacement case RMA #{case.pk} ({pair.primary})."
    stale = alert_raise(organization=pair.organization, kind=AlertKind.SYNC_STALE, dedup_key="s", subject="stale",
                        body="b", scope=pair)
    assert stale.suppressed_reason  # the pair's own alerts are expected while a member is away
    other = raise_down(pairs[1])
    assert other.suppressed_reason == ""
    alerts_deliver_pending()
    assert len(mailoutbox) == 1 and pairs[1].site_hostname in mailoutbox[0].subject
