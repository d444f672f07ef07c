"""A person signs in, adds an appliance through the form, and finds it in the list."""

import pytest

from appliances.models import Appliance
from portal.models import Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_sign_in_create_appliance_and_see_it_listed(page, sign_in, org_a, make_member):
    admin = make_member(org_a, Role.ADMIN, username="alice")
    sign_in(admin)
    assert page.locator("h1").inner_text() == "Fleet dashboard"
    page.click("text=Appliances")
    page.click("text=Add appliance")
    page.fill("#id_name", "browser-made-1")
    page.fill("#id_management_host", "127.6.0.1")
    page.fill("#id_site_hostname", "access.example.com")
    page.fill("#id_client_id", "portal-client")
    page.fill("#id_client_secret", "browser-secret-value")
    page.fill("#id_tls_pin", "ab" * 32)
    page.click("input[type=submit]")
    page.wait_for_url("**/appliances/*/")
    assert "browser-made-1" in page.locator("h1").inner_text()
    assert "browser-secret-value" not in page.content()
    page.click("nav >> text=Appliances")
    row = page.locator("#appliance-table tbody tr", has_text="browser-made-1")
    assert row.count() == 1
    assert "127.6.0.1:443" in row.inner_text()
    assert Appliance.objects.get(name="browser-made-1").client_secret == "browser-secret-value"


def test_form_errors_are_shown_next_to_the_fields(page, sign_in, org_a, make_member):
    sign_in(make_member(org_a, Role.ADMIN, username="bob"))
    page.goto("/appliances/add/")
    page.fill("#id_name", "bad")
    page.fill("#id_management_host", "not a host!")
    page.fill("#id_management_port", "70000")
    page.click("input[type=submit]")
    assert page.locator(".invalid-feedback", has_text="neither a host name nor an IP address").count() == 1
    assert page.locator(".invalid-feedback", has_text="less than or equal to 65535").count() == 1
    assert not Appliance.objects.exists()
