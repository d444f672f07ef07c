"""Role rules: viewers read only; operators act but cannot change configuration or credentials."""

import pytest

from appliances.models import Appliance
from portal.models import AuditEvent, Membership, Role
from tests.factories import ApplianceFactory


@pytest.fixture
def appliance(org_a):
    return ApplianceFactory(organization=org_a, name="edge-1")


@pytest.mark.parametrize("role", [Role.VIEWER, Role.OPERATOR])
def test_non_admin_cannot_change_appliance_configuration_in_ui(role, org_a, appliance, make_member, login):
    client = login(make_member(org_a, role))
    assert client.get(appliance.get_absolute_url()).status_code == 200
    assert client.get(f"/appliances/{appliance.pk}/edit/").status_code == 403
    response = client.post(f"/appliances/{appliance.pk}/edit/", {"name": "renamed", "management_host": "127.0.0.9"})
    assert response.status_code == 403
    assert client.post(f"/appliances/{appliance.pk}/delete/").status_code == 403
    appliance.refresh_from_db()
    assert appliance.name == "edge-1"
    assert Appliance.objects.filter(pk=appliance.pk).exists()


@pytest.mark.parametrize("role", [Role.VIEWER, Role.OPERATOR])
def test_non_admin_cannot_change_credentials_over_api(role, org_a, appliance, make_member, api_as):
    api = api_as(make_member(org_a, role))
    url = f"/api/v1/appliances/{appliance.pk}/"
    assert api.get(url).status_code == 200
    response = api.patch(url, {"client_secret": "stolen", "client_id": "x"}, format="json")
    assert response.status_code == 403
    assert api.delete(url).status_code == 403
    created = api.post(
        "/api/v1/appliances/",
        {"organization": org_a.pk, "name": "new", "management_host": "127.0.0.5", "tls_pin": "a" * 64},
        format="json",
    )
    assert created.status_code in (400, 403)
    appliance.refresh_from_db()
    assert appliance.client_id != "x"
    assert Appliance.objects.filter(organization=org_a).count() == 1


def test_viewer_cannot_manage_members(org_a, make_member, api_as, login):
    viewer = make_member(org_a, Role.VIEWER)
    outsider = make_member(org_a, Role.VIEWER, username="someone")
    membership = Membership.objects.get(user=outsider)
    api = api_as(viewer)
    assert api.patch(f"/api/v1/memberships/{membership.pk}/", {"role": "admin"}, format="json").status_code == 403
    client = login(viewer)
    assert client.post(f"/members/{membership.pk}/edit/", {"role": "admin"}).status_code == 403
    membership.refresh_from_db()
    assert membership.role == Role.VIEWER


def test_admin_changes_a_members_role_in_the_ui_and_it_is_audited(org_a, make_member, login):
    admin = make_member(org_a, Role.ADMIN)
    newcomer = make_member(org_a, Role.OPERATOR, username="newcomer")
    client = login(admin)
    membership = Membership.objects.get(user=newcomer, organization=org_a)
    client.post(f"/members/{membership.pk}/edit/", {"role": Role.VIEWER})
    membership.refresh_from_db()
    assert membership.role == Role.VIEWER
    actions = list(AuditEvent.objects.filter(organization=org_a, object_type="portal.membership").values_list("action", flat=True))
    assert actions.count("update") == 1


def test_last_admin_cannot_be_demoted(org_a, make_member, login):
    admin = make_member(org_a, Role.ADMIN)
    client = login(admin)
    membership = Membership.objects.get(user=admin)
    response = client.post(f"/members/{membership.pk}/edit/", {"role": Role.VIEWER})
    assert response.status_code == 200
    assert "at least one admin" in response.content.decode()
    membership.refresh_from_db()
    assert membership.role == Role.ADMIN


def test_operator_role_is_visible_to_me_endpoint(org_a, make_member, api_as):
    user = make_member(org_a, Role.OPERATOR)
    data = api_as(user).get("/api/v1/me/").json()
    assert data["memberships"] == [{"organization": org_a.pk, "organization_name": org_a.name, "role": "operator"}]
