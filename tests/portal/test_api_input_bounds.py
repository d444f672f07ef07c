"""Input the audit answered with a 500: out-of-range pagination, filters and JSON. Each now gets an answer."""

import pytest
from django.conf import settings

from portal.models import Role
from tests.factories.certificates import CertificateFactory
from tests.factories.failover import (
    AlertFactory,
    PairFactory,
    PairStateChangeFactory,
    StatusChangeFactory,
    SyncRecordFactory,
)

pytestmark = pytest.mark.django_db

HUGE = "9223372036854775808"


@pytest.fixture
def viewer_api(org_a, make_member, api_as):
    return api_as(make_member(org_a, Role.VIEWER))


@pytest.mark.parametrize("path", ["/api/v1/pairs/", "/api/v1/audit-events/", "/api/v1/syncs/", "/api/v1/alerts/"])
def test_a_huge_limit_is_cut_to_the_maximum_page_size(viewer_api, org_a, path):
    PairFactory(organization=org_a)
    response = viewer_api.get(path, {"limit": HUGE, "offset": HUGE})
    assert response.status_code == 200, response.content
    assert response.json()["results"] == []
    response = viewer_api.get(path, {"limit": HUGE})
    assert response.status_code == 200
    assert len(response.json()["results"]) <= settings.API_MAX_PAGE_SIZE


def test_the_page_size_maximum_holds(viewer_api, org_a):
    pair = PairFactory(organization=org_a)
    SyncRecordFactory.create_batch(settings.API_MAX_PAGE_SIZE + 3, pair=pair)
    body = viewer_api.get("/api/v1/syncs/", {"limit": 100000}).json()
    assert body["count"] == settings.API_MAX_PAGE_SIZE + 3
    assert len(body["results"]) == settings.API_MAX_PAGE_SIZE
    assert body["next"]


def test_expires_within_beyond_the_calendar_is_a_field_error(viewer_api, org_a):
    CertificateFactory(appliance=PairFactory(organization=org_a).primary)
    response = viewer_api.get("/api/v1/certificates/", {"expires_within": 3000000})
    assert response.status_code == 400
    assert "expires_within" in response.json()
    assert viewer_api.get("/api/v1/certificates/", {"expires_within": 30}).status_code == 200


def test_a_huge_numeric_filter_on_the_certificate_page_is_a_field_error(login, org_a, make_member):
    client = login(make_member(org_a, Role.VIEWER))
    response = client.get("/certificates/", {"expires_within": "1e400"})
    assert response.status_code == 200
    assert "Ensure this value is less than or equal to 36500" in response.content.decode()


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/api/v1/syncs/", "since"),
        ("/api/v1/audit-events/", "since"),
        ("/api/v1/alerts/", "created_at__gte"),
        ("/api/v1/status-changes/", "at__lte"),
        ("/api/v1/pair-state-changes/", "at__gte"),
    ],
)
def test_a_datetime_offset_beyond_postgresql_is_a_field_error(viewer_api, org_a, path, parameter):
    pair = PairFactory(organization=org_a)
    SyncRecordFactory(pair=pair)
    AlertFactory(pair=pair)
    StatusChangeFactory(appliance=pair.primary)
    PairStateChangeFactory(pair=pair)
    response = viewer_api.get(path, {parameter: "2026-01-01T00:00:00+23:00"})
    assert response.status_code == 400, response.content
    assert response.json()[parameter] == ["Use a time zone offset between -15:59 and +15:59."]
    assert viewer_api.get(path, {parameter: "2026-01-01T00:00:00+15:59"}).status_code == 200


def test_the_audit_page_shows_an_offset_error_instead_of_failing(login, org_a, make_member):
    client = login(make_member(org_a, Role.ADMIN))
    response = client.get("/audit/", {"since": "2026-01-01T00:00:00-20:00"})
    assert response.status_code == 200
    assert "Use a time zone offset between -15:59 and +15:59." in response.content.decode()


def test_deeply_nested_json_from_a_viewer_is_a_400_in_json(viewer_api):
    body = "[" * 100_000 + "]" * 100_000
    response = viewer_api.post("/api/v1/pairs/", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert "nested too deeply" in response.json()["detail"]


def test_malformed_json_is_a_400_in_json(viewer_api):
    response = viewer_api.post("/api/v1/pairs/", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")


def test_plain_lists_and_nullable_fields_are_documented_as_such(client, org_a, make_member):
    client.force_login(make_member(org_a))
    schema = client.get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    for path in ("/api/v1/pairs/{id}/advice/", "/api/v1/pairs/{id}/establish-checks/"):
        content = paths[path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert content["type"] == "array", path
        assert not any(p["name"] in ("limit", "offset") for p in paths[path]["get"].get("parameters", []))
    status = schema["components"]["schemas"]["ApplianceLatestStatus"]["properties"]
    assert status["checked_at"]["nullable"] and status["last_sync_at"]["nullable"]
    limit = next(p for p in paths["/api/v1/pairs/"]["get"]["parameters"] if p["name"] == "limit")
    assert limit["schema"]["maximum"] == settings.API_MAX_PAGE_SIZE
    downloads = paths["/api/v1/rma-attachments/{id}/download/"]["get"]["responses"]["200"]["content"]
    assert set(downloads) == {"application/pdf", "image/jpeg", "image/png"}
