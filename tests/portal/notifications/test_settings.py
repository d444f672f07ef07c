"""Notification settings as an organisation admin uses them: a channel's URL is encrypted at rest and never
shown back, the test button shows what the service answered, routes over REST, acknowledgement over REST and in
the UI, the alerts page filters and an alert's deliveries."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from portal.models import Alert, AlertStatus, AuditEvent, ChannelKind, NotificationChannel, Role
from portal.services.notification_settings import channel_create, route_save
from portal.services.notifications import alerts_deliver_pending
from tests.factories import PairFactory

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "s3cr3t-token-0123456789"


def test_channel_url_is_encrypted_and_never_shown(org_a, make_member, login, webhook):
    admin = make_member(org_a, Role.ADMIN)
    client = login(admin)
    url = f"{webhook.url}?token={SECRET}"
    response = client.post("/notifications/channels/add/", {
        "organization": org_a.pk, "name": "noc", "kind": ChannelKind.APPRISE, "url": url, "enabled": "on"})
    assert response.status_code == 302, response.content
    channel = NotificationChannel.objects.get(name="noc")
    assert channel.url == url
    with connection.cursor() as cursor:
        cursor.execute("SELECT url FROM portal_notificationchannel WHERE id = %s", [channel.pk])
        stored = cursor.fetchone()[0]
    assert SECRET not in stored and "127.0.0.1" not in stored
    for page in ("/notifications/channels/", f"/notifications/channels/{channel.pk}/"):
        html = client.get(page).content.decode()
        assert SECRET not in html and "/hook" not in html
        assert "json://127.0.0.1:" in html  # the redacted form: scheme and host
    assert SECRET not in str(list(AuditEvent.objects.values_list("changes", flat=True)))
    api = client.get(f"/api/v1/notification-channels/{channel.pk}/").json()
    assert "url" not in api and api["url_redacted"].startswith("json://127.0.0.1:")

    # Editing without retyping the URL keeps it.
    client.post(f"/notifications/channels/{channel.pk}/", {"name": "noc-2", "kind": ChannelKind.APPRISE, "url": "",
                                                            "enabled": "on"})
    channel.refresh_from_db()
    assert channel.name == "noc-2" and channel.url == url


def test_send_a_test_shows_the_result(org_a, make_member, login, webhook):
    admin = make_member(org_a, Role.ADMIN)
    client = login(admin)
    good = channel_create(actor=admin, organization=org_a, name="good", kind=ChannelKind.APPRISE, url=webhook.url)
    page = client.post(f"/notifications/channels/{good.pk}/test/", follow=True).content.decode()
    assert "Test message: Delivered to json://127.0.0.1:" in page
    assert webhook.posts[-1]["title"] == "[Failover Portal] Test message for channel “good”"
    dead = channel_create(actor=admin, organization=org_a, name="dead", kind=ChannelKind.APPRISE,
                          url="json://127.0.0.1:9/")
    page = client.post(f"/notifications/channels/{dead.pk}/test/", follow=True).content.decode()
    assert "Test message: Failed:" in page and 'id="last-test" class="text-danger"' in page
    assert AuditEvent.objects.filter(verb="test_channel").count() == 2
    viewer = make_member(org_a, Role.VIEWER)
    assert login(viewer).post(f"/notifications/channels/{good.pk}/test/").status_code == 403


@pytest.mark.parametrize("url, message", [
    ("not a url", "Apprise does not understand"),
    ("json://169.254.169.254/latest/meta-data", "link-local"),  # the outbound address policy
])
def test_bad_channel_urls_get_field_errors(org_a, make_member, api_as, url, message):
    api = api_as(make_member(org_a, Role.ADMIN))
    response = api.post("/api/v1/notification-channels/", {"organization": org_a.pk, "name": "x", "kind": "apprise",
                                                            "url": url}, format="json")
    assert response.status_code == 400 and message in str(response.json()["url"])


def test_routes_over_rest(org_a, make_member, api_as):
    admin = make_member(org_a, Role.ADMIN)
    api = api_as(admin)
    channel = channel_create(actor=admin, organization=org_a, name="mail", kind=ChannelKind.EMAIL,
                             recipients="oncall@example.com")
    bad = api.post("/api/v1/notification-routes/", {"organization": org_a.pk, "name": "r", "matchers": [
        {"label": "pair", "op": "=~", "value": "("}]}, format="json")
    assert bad.status_code == 400 and "matchers" in bad.json()
    created = api.post("/api/v1/notification-routes/", {
        "organization": org_a.pk, "name": "critical", "channels": [channel.pk], "group_by": ["kind", "pair"],
        "matchers": [{"label": "severity", "op": "=", "value": "critical"}]}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["channels"] == [channel.pk]
    viewer_api = api_as(make_member(org_a, Role.VIEWER))
    assert viewer_api.patch(f"/api/v1/notification-routes/{created.json()['id']}/", {"name": "x"},
                            format="json").status_code == 403


def test_acknowledge_over_rest_and_in_the_ui(org_a, make_member, api_as, login, raise_down):
    operator, viewer = make_member(org_a, Role.OPERATOR), make_member(org_a, Role.VIEWER)
    first, second = raise_down(PairFactory(organization=org_a)), raise_down(PairFactory(organization=org_a))
    assert api_as(viewer).post(f"/api/v1/alerts/{first.pk}/acknowledge/").status_code == 403
    response = api_as(operator).post(f"/api/v1/alerts/{first.pk}/acknowledge/")
    assert response.status_code == 200
    assert response.json()["status"] == AlertStatus.ACKNOWLEDGED
    assert response.json()["acknowledged_by"] == operator.username
    client = login(operator)
    client.post(f"/alerts/{second.pk}/acknowledge/")
    assert Alert.objects.get(pk=second.pk).acknowledged_by == operator
    assert AuditEvent.objects.filter(verb="acknowledge_alert").count() == 2


def test_alerts_page_filters_and_an_alert_shows_its_deliveries(org_a, make_member, login, raise_down, webhook):
    admin = make_member(org_a, Role.ADMIN)
    channel = channel_create(actor=admin, organization=org_a, name="hook", kind=ChannelKind.APPRISE, url=webhook.url)
    dead = channel_create(actor=admin, organization=org_a, name="dead", kind=ChannelKind.APPRISE,
                          url="json://127.0.0.1:9/")
    route_save(actor=admin, organization=org_a, data={"name": "all", "channels": [channel, dead]})
    firing = raise_down(PairFactory(organization=org_a))
    acked = raise_down(PairFactory(organization=org_a))
    Alert.objects.filter(pk=acked.pk).update(acknowledged_at=timezone.now())
    warning = raise_down(PairFactory(organization=org_a), severity="warning")
    alerts_deliver_pending()
    client = login(admin)

    def listed(query):
        html = client.get(f"/failover/alerts/?{query}").content.decode()
        return {a.pk for a in (firing, acked, warning) if f'href="/alerts/{a.pk}/"' in html}

    assert listed("") == {firing.pk, acked.pk, warning.pk}
    assert listed("status=firing") == {firing.pk, warning.pk}
    assert listed("status=acknowledged") == {acked.pk}
    assert listed("acknowledged=false&severity=critical") == {firing.pk}
    assert listed("kind=sync_stale") == set()

    page = client.get(f"/alerts/{firing.pk}/").content.decode()
    assert 'id="delivery-table"' in page and "hook" in page and "Sent" in page
    assert "dead" in page and "Failed, will retry" in page
    assert ">Acknowledge<" in page.replace('<i class="bi bi-check2-circle"></i> ', "")


@pytest.mark.parametrize("actor_role", [None, Role.VIEWER, Role.OPERATOR])
def test_notification_services_check_the_actor(org_a, make_member, actor_role, raise_down):
    """NOTIFICATION_ROLES: channels and routes need an admin, silences and acknowledgement an operator."""
    from django.core.exceptions import PermissionDenied  # noqa: PLC0415 (this test alone)

    from portal.services.alerts import alerts_acknowledge  # noqa: PLC0415 (this test alone)
    from portal.services.notification_settings import silence_create  # noqa: PLC0415 (this test alone)

    actor = make_member(org_a, actor_role) if actor_role else None
    with pytest.raises(PermissionDenied):
        channel_create(actor=actor, organization=org_a, name="x", kind=ChannelKind.EMAIL, recipients="a@example.com")
    with pytest.raises(PermissionDenied):
        route_save(actor=actor, organization=org_a, data={"name": "r"})
    alert = raise_down(PairFactory(organization=org_a))
    silence = {"organization": org_a, "matchers": [{"label": "kind", "op": "=", "value": "x"}],
               "ends_at": timezone.now() + timedelta(hours=1), "comment": "c"}
    if actor_role == Role.OPERATOR:
        assert silence_create(actor=actor, **silence).pk
        assert alerts_acknowledge(actor=actor, alerts=[alert], via="a test") == 1
        return
    with pytest.raises(PermissionDenied):
        silence_create(actor=actor, **silence)
    with pytest.raises(PermissionDenied):
        alerts_acknowledge(actor=actor, alerts=[alert], via="a test")
    assert Alert.objects.get(pk=alert.pk).acknowledged_at is None
