"""Setting probe locations from the pages, as an administrator sees it: the organisation's default locations and
quorum, one appliance's override, field errors for bad input (never a 500), the audit trail, roles and tenancy."""

import pytest

from failover.models import ApplianceProbeLocations, LocationStatus, ProbeLocation, ProbeSettings
from portal.models import AuditEvent, Role
from tests.factories import ApplianceFactory


@pytest.fixture(autouse=True)
def catalogue(db):
    for name in ("east", "west", "north"):
        ProbeLocation.objects.create(name=name, description=f"{name} data centre")


def settings_url(organization) -> str:
    return f"/failover/organizations/{organization.pk}/probe-locations/"


def test_an_admin_sets_the_default_locations_and_quorum_and_it_is_audited(org_a, make_member, login):
    admin = make_member(org_a, Role.ADMIN)
    client = login(admin)
    page = client.get(settings_url(org_a)).content.decode()
    assert "east data centre" in page and "local" in page

    response = client.post(settings_url(org_a), {"locations": ["east", "west", "north"], "quorum": "3"}, follow=True)

    assert response.status_code == 200 and "saved" in response.content.decode()
    row = ProbeSettings.objects.get(organization=org_a)
    assert (row.locations, row.quorum) == (["east", "west", "north"], 3)
    event = AuditEvent.objects.get(organization=org_a, object_type__icontains="probe")
    assert event.actor == admin and event.changes["quorum"] == [None, 3]
    # The form shows what is stored.
    assert client.get(settings_url(org_a)).context["form"].initial == {"locations": ["east", "west", "north"],
                                                                         "quorum": 3}


@pytest.mark.parametrize(("data", "field_error"), [
    ({"locations": ["east", "west"], "quorum": "3"}, "Between 1 and the number of locations (2)"),
    ({"locations": ["east", "nowhere"]}, "Select a valid choice"),
    ({"locations": ["east"], "quorum": "many"}, "Enter a whole number"),
    ({"locations": ["east"], "quorum": "0"}, "greater than or equal to 1"),
])
def test_bad_input_is_a_field_error_never_a_500(org_a, make_member, login, data, field_error):
    client = login(make_member(org_a, Role.ADMIN))
    response = client.post(settings_url(org_a), data)
    assert response.status_code == 200
    assert field_error in response.content.decode()
    assert not ProbeSettings.objects.filter(organization=org_a).exists()


def test_only_admins_of_the_organisation_may_set_locations(org_a, org_b, make_member, login):
    operator = login(make_member(org_a, Role.OPERATOR))
    assert operator.get(settings_url(org_a)).status_code == 403
    assert operator.post(settings_url(org_a), {"locations": ["east"]}).status_code == 403
    appliance = ApplianceFactory(organization=org_a)
    assert operator.post(f"/failover/appliances/{appliance.pk}/probe-locations/", {"locations": ["east"]}
                         ).status_code == 403
    # Another organisation's objects do not exist for this user.
    other = login(make_member(org_b, Role.ADMIN))
    assert other.get(settings_url(org_a)).status_code == 404
    assert other.get(f"/failover/appliances/{appliance.pk}/probe-locations/").status_code == 404
    assert not ProbeSettings.objects.exists() and not ApplianceProbeLocations.objects.exists()


def test_an_appliance_overrides_the_default_and_the_override_can_be_removed(org_a, make_member, login):
    client = login(make_member(org_a, Role.ADMIN))
    ProbeSettings.objects.create(organization=org_a, locations=["east", "west", "north"])
    appliance = ApplianceFactory(organization=org_a)
    url = f"/failover/appliances/{appliance.pk}/probe-locations/"
    assert "default (east, west, north)" in client.get(url).content.decode()

    response = client.post(url, {"locations": ["east", "west"]})

    assert response.status_code == 302 and response["Location"] == appliance.get_absolute_url()
    assert ApplianceProbeLocations.objects.get(appliance=appliance).locations == ["east", "west"]
    assert AuditEvent.objects.filter(organization=org_a, verb="set probe locations").count() == 1
    assert "Select a valid choice" in client.post(url, {"locations": ["mars"]}).content.decode()

    client.post(url, {})  # none ticked: back to the organisation's default
    assert not ApplianceProbeLocations.objects.filter(appliance=appliance).exists()
    assert AuditEvent.objects.filter(organization=org_a, verb="set probe locations").count() == 2


def test_the_appliance_page_links_admins_to_the_settings_and_marks_a_stale_location(org_a, make_member, login):
    ProbeSettings.objects.create(organization=org_a, locations=["east", "west"])
    appliance = ApplianceFactory(organization=org_a)
    LocationStatus.objects.create(organization=org_a, appliance=appliance, location="east", status_reachable=True,
                                  status_checked_at="2020-01-01T00:00:00Z")
    page = login(make_member(org_a, Role.ADMIN)).get(appliance.get_absolute_url()).content.decode()
    assert f"/failover/appliances/{appliance.pk}/probe-locations/" in page
    assert settings_url(org_a) in page
    assert "stale, not counted" in page
    viewer_page = login(make_member(org_a, Role.VIEWER)).get(appliance.get_absolute_url()).content.decode()
    assert settings_url(org_a) not in viewer_page
