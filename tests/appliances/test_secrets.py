"""The OAuth client secret is encrypted at rest and never shown back: not in the database, the API, the UI
or the audit log."""

import pytest
from django.db import connection

from appliances.models import Appliance
from portal.models import AuditEvent, Role

SECRET = "top-secret-client-credential-42"


@pytest.fixture
def admin(org_a, make_member):
    return make_member(org_a, Role.ADMIN)


def raw_column(appliance_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT client_secret FROM appliances_appliance WHERE id = %s", [appliance_id])
        return cursor.fetchone()[0]


def test_secret_created_over_api_is_encrypted_and_never_returned(org_a, admin, api_as):
    api = api_as(admin)
    response = api.post(
        "/api/v1/appliances/",
        {
            "organization": org_a.pk, "name": "edge", "management_host": "127.5.0.1", "tls_pin": "cd" * 32,
            "client_id": "portal", "client_secret": SECRET,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert SECRET not in response.content.decode()
    assert response.json()["has_client_secret"] is True
    appliance = Appliance.objects.get(name="edge")
    assert appliance.client_secret == SECRET  # the application can still use it
    stored = raw_column(appliance.pk)
    assert SECRET not in stored and stored.startswith("gAAAA")  # a Fernet token
    assert SECRET not in api.get(f"/api/v1/appliances/{appliance.pk}/").content.decode()
    assert SECRET not in api.get("/api/v1/appliances/").content.decode()
    assert SECRET not in api.get("/api/v1/audit-events/").content.decode()
    assert SECRET not in api.get("/api/schema/").content.decode()


def test_secret_changed_in_ui_is_audited_without_its_value(org_a, admin, login):
    client = login(admin)
    data = {
        "organization": org_a.pk, "name": "edge", "management_host": "127.5.0.1", "management_port": 443,
        "tls_pin": "cd" * 32, "client_id": "portal", "client_secret": SECRET, "probe_interval": 60, "probe_timeout": 5,
    }
    assert client.post("/appliances/add/", data).status_code == 302
    appliance = Appliance.objects.get(name="edge")
    page = client.get(f"/appliances/{appliance.pk}/edit/").content.decode()
    assert SECRET not in page
    # an empty secret field keeps the stored secret
    assert client.post(f"/appliances/{appliance.pk}/edit/", {**data, "client_secret": "", "name": "edge-renamed"}).status_code == 302
    appliance.refresh_from_db()
    assert appliance.name == "edge-renamed" and appliance.client_secret == SECRET
    assert client.post(f"/appliances/{appliance.pk}/edit/", {**data, "client_secret": "rotated-" + SECRET}).status_code == 302
    appliance.refresh_from_db()
    assert appliance.client_secret == "rotated-" + SECRET
    events = AuditEvent.objects.filter(object_type="appliances.appliance")
    assert events.count() == 3
    for event in events:
        assert SECRET not in str(event.changes) and SECRET not in event.summary
    assert events.first().changes["client_secret"] == "(secret changed)"
    assert SECRET not in client.get("/audit/").content.decode()
    assert SECRET not in client.get(f"/appliances/{appliance.pk}/").content.decode()


def test_credentials_that_http_basic_auth_cannot_carry_are_field_errors(org_a, admin, api_as):
    """A client id "Ádmin" was saved, and every later call to the appliance (establish, checks) was a 500."""
    api = api_as(admin)
    response = api.post(
        "/api/v1/appliances/",
        {"organization": org_a.pk, "name": "edge", "management_host": "127.5.0.1", "tls_pin": "cd" * 32,
         "client_id": "Ádmin", "client_secret": "sécret"},
        format="json",
    )
    assert response.status_code == 400
    assert {"client_id", "client_secret"} <= set(response.json())
    assert not Appliance.objects.filter(name="edge").exists()
