"""Test connection against the simulator, in both profiles: API version, permissions per account, clock skew,
capabilities, and what the portal can do; an appliance without API credentials through plain /check_health."""

import pytest
from django.urls import reverse

from appliances.connection import appliance_test_connection
from portal.models import AuditEvent, Role

pytestmark = pytest.mark.django_db

NAME = "org-001-pair01-a"


def with_read_only_account(sim, appliance, *, as_probe_account: bool):
    """The appliance's read-only API account (from the fleet) as its main account or as its probing account."""
    account = sim.appliance(NAME)["extra_accounts"][0]
    prefix = "probe_" if as_probe_account else ""
    setattr(appliance, f"{prefix}client_id", account["client_id"])
    setattr(appliance, f"{prefix}client_secret", account["client_secret"])
    appliance.save()
    return account


@pytest.mark.parametrize("profile", ["vendor", "extended"])
def test_full_access_account(sim_inventory, profile):
    sim, org, appliances, admin = sim_inventory
    appliance = appliances[NAME]
    sim.set_profile(profile, [appliance.management_host])
    report = appliance_test_connection(actor=admin, appliance=appliance)
    assert report.reachable and report.authenticated and not report.problems
    assert report.api_version == "1.24.3" and report.command_access == "full_access" and report.can_backup
    assert abs(report.clock_skew_seconds) < 5
    assert (report.version, report.build, report.role) == ("24.3.1", "41234-0123abcd", "primary")
    assert any("change its role" in line for line in report.can)
    appliance.refresh_from_db()
    if profile == "vendor":
        assert report.extension_actions == [] and appliance.capability_profile == "vendor"
        assert any("guided steps" in line for line in report.cannot)
    else:
        assert "x_sync_now" in report.extension_actions and appliance.capability_profile == "extended"
    assert appliance.capabilities_read_at is not None
    assert AuditEvent.objects.filter(verb="test connection", object_id=str(appliance.pk)).exists()


def test_read_only_account_probes_but_cannot_change_roles(sim_inventory):
    sim, org, appliances, admin = sim_inventory
    appliance = appliances[NAME]
    with_read_only_account(sim, appliance, as_probe_account=False)
    report = appliance_test_connection(actor=admin, appliance=appliance)
    assert report.command_access == "read_only" and report.can_backup is False
    assert any("probe it" in line for line in report.can)
    assert any("change its role" in line for line in report.cannot)
    assert any("backups" in line for line in report.cannot)


def test_a_probing_account_alone_is_tested_and_reported_as_what_probes(sim_inventory):
    """No full API account, only the read-only probing account: the probe loop uses that account, so Test
    connection checks it and says the appliance is probed with it (not through the plain page only)."""
    sim, org, appliances, admin = sim_inventory
    appliance = appliances[NAME]
    with_read_only_account(sim, appliance, as_probe_account=True)
    appliance.client_id, appliance.client_secret = "", ""
    appliance.save()
    report = appliance_test_connection(actor=admin, appliance=appliance)
    assert report.reachable and report.probe_account_access == "read_only"
    assert any("read-only account" in line for line in report.can)
    assert not any("plain /check_health page" in line for line in report.can)
    assert any("change roles" in line for line in report.cannot)


def test_without_credentials_it_is_probed_through_plain_check_health(sim_inventory):
    sim, org, appliances, admin = sim_inventory
    appliance = appliances[NAME]
    appliance.client_id, appliance.client_secret = "", ""
    appliance.save()
    report = appliance_test_connection(actor=admin, appliance=appliance)
    assert report.reachable and report.authenticated is None
    assert report.plain_health.startswith("HTTP 200")
    assert any("plain /check_health" in line for line in report.can)
    sim.set_fault(appliance.management_host, "unhealthy", message="disk full")
    assert appliance_test_connection(actor=admin, appliance=appliance).plain_health.startswith("HTTP 500")
    sim.set_fault(appliance.management_host, "down")
    report = appliance_test_connection(actor=admin, appliance=appliance)
    assert not report.reachable and "cannot be reached" in report.problems[0]


def test_page_and_rest(sim_inventory, login, api_as, make_member):
    sim, org, appliances, admin = sim_inventory
    appliance = appliances[NAME]
    sim.set_profile("vendor", [appliance.management_host])
    page = login(admin).post(reverse("appliances:appliance_test_connection", args=[appliance.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "full_access" in body and "none (vendor API only)" in body and "nothing was changed" in body
    detail = login(admin).get(appliance.get_absolute_url()).content.decode()
    assert "Vendor API only" in detail and "read from the appliance" in detail
    api = api_as(make_member(org, Role.OPERATOR))
    response = api.post(f"/api/v1/appliances/{appliance.pk}/test-connection/")
    assert response.status_code == 200 and response.json()["command_access"] == "full_access"
    assert api.get(f"/api/v1/appliances/{appliance.pk}/").json()["capability_profile"] == "vendor"
    viewer = api_as(make_member(org, Role.VIEWER))
    assert viewer.post(f"/api/v1/appliances/{appliance.pk}/test-connection/").status_code == 403


def test_a_read_only_account_is_used_for_probing_and_reported(sim_inventory):
    from appliances.connect import probe_target
    from failover.probing import probe_appliances

    sim, org, appliances, admin = sim_inventory
    appliance = appliances[NAME]
    read_only = with_read_only_account(sim, appliance, as_probe_account=True)
    assert probe_target(appliance).credentials.client_id == read_only["client_id"]
    probe_appliances([appliance.pk])
    appliance.refresh_from_db()
    assert appliance.status_reachable and appliance.status_role == "primary"
    accounts = {a["client_id"]: a["live_tokens"] for a in sim.state(appliance.management_host)["accounts"]}
    assert accounts[read_only["client_id"]] >= 1  # the probe's token came from the read-only account
    report = appliance_test_connection(actor=admin, appliance=appliance)
    assert report.command_access == "full_access" and report.probe_account_access == "read_only"
    assert not report.problems
    assert any("read-only account" in line for line in report.can)
    # The probing account given full access: least privilege is called out.
    appliance.probe_client_id, appliance.probe_client_secret = appliance.client_id, appliance.client_secret
    appliance.save()
    assert any("least privilege" in p for p in appliance_test_connection(actor=admin, appliance=appliance).problems)


def test_an_appliance_without_credentials_is_probed_through_plain_check_health(sim_inventory, login):
    from failover.probing import probe_appliances

    sim, org, appliances, admin = sim_inventory
    appliance = appliances[NAME]
    appliance.client_id, appliance.client_secret = "", ""
    appliance.save()
    report = probe_appliances([appliance.pk])
    assert report.succeeded == 1
    appliance.refresh_from_db()
    assert appliance.status_reachable and appliance.status_healthy
    assert appliance.status_role == "" and appliance.status_last_sync_at is None  # unknown, not guessed
    page = login(admin).get(appliance.get_absolute_url()).content.decode()
    assert "probed through the plain /check_health page only" in page
    sim.set_fault(appliance.management_host, "unhealthy", message="disk full")
    probe_appliances([appliance.pk])
    appliance.refresh_from_db()
    assert appliance.status_reachable and appliance.status_healthy is False
    assert appliance.status_error.startswith("/check_health failed")


def test_test_connection_on_the_form_uses_the_values_entered_and_saves_nothing(sim_inventory, login):
    sim, org, appliances, admin = sim_inventory
    appliance = appliances[NAME]
    read_only = sim.appliance(NAME)["extra_accounts"][0]
    url = reverse("appliances:appliance_edit", args=[appliance.pk])
    form = login(admin).get(url).context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(organization=org.pk, client_id=read_only["client_id"], client_secret=read_only["client_secret"],
                test_connection="Test connection")
    response = login(admin).post(url, data)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Connection test with the values above (not saved)" in body and "read_only" in body
    appliance.refresh_from_db()
    assert appliance.client_id == sim.appliance(NAME)["client_id"]  # the typed account was not saved


def test_capability_profiles_are_read_for_appliances_never_read(sim_inventory):
    from appliances.tasks import refresh_capabilities

    sim, org, appliances, admin = sim_inventory
    vendor = appliances["org-001-pair02-a"]
    sim.set_profile("vendor", [vendor.management_host])
    sim.set_fault(appliances["org-001-pair03-a"].management_host, "down")
    recorded = refresh_capabilities()
    assert recorded == len(appliances) - 1  # the one that is down stays unknown
    for name, appliance in appliances.items():
        appliance.refresh_from_db()
    assert appliances["org-001-pair02-a"].capability_profile == "vendor"
    assert appliances[NAME].capability_profile == "extended"
    assert appliances["org-001-pair03-a"].capability_profile == "unknown"
    assert refresh_capabilities() == 0  # read within the day: nothing to do (the unreachable one fails again)
