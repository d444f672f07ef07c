"""Pages load under the Content-Security-Policy with nothing refused: the browser reports a blocked inline
script, handler or style as a console error, which fails the test. The organisation switcher and the confirm
prompt (once inline handlers) still work from portal.js."""

import pytest

from demo.fleet_loader import fleet_load
from portal.models import Role
from portal.permissions import SYSTEM

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PAGES = ["/", "/appliances/", "/failover/pairs/", "/failover/alerts/", "/certificates/", "/audit/", "/tokens/",
         "/api/docs/", "/admin/", "/admin/portal/organization/"]


@pytest.fixture
def console_errors(page):
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(f"{page.url}: {message.text}"))
    page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
    return errors


def test_pages_load_without_csp_violations(page, sign_in, console_errors, fresh_simulator, platform_operator):
    sim = fresh_simulator
    loaded = fleet_load(actor=SYSTEM, fleet=sim.fleet_path, ca_pem=sim.ca_path.read_text(), port=sim.port, pairs=True)
    pair = next(iter(loaded.pairs.values()))
    platform_operator.is_staff = True
    platform_operator.save()
    sign_in(platform_operator)
    for path in [*PAGES, pair.get_absolute_url()]:
        response = page.goto(path)
        assert response.status == 200, path
        assert "Content-Security-Policy" in {k.title(): v for k, v in response.headers.items()}, path
        page.wait_for_load_state("networkidle")
    page.goto("/api/docs/")
    page.locator(".swagger-ui .title", has_text="Failover Portal API").wait_for(timeout=20_000)
    assert console_errors == []


def test_switcher_and_confirm_work_from_the_static_script(page, sign_in, console_errors, fresh_simulator,
                                                         make_member):
    sim = fresh_simulator
    loaded = fleet_load(actor=SYSTEM, fleet=sim.fleet_path, ca_pem=sim.ca_path.read_text(), port=sim.port, pairs=True)
    pair = next(iter(loaded.pairs.values()))
    admin = make_member(pair.organization, Role.ADMIN, username="ada")
    sign_in(admin)
    page.goto("/failover/pairs/")
    with page.expect_navigation():
        page.select_option("#org-switcher select", str(pair.organization.pk))
    assert page.locator("#org-switcher select").input_value() == str(pair.organization.pk)
    page.goto(pair.get_absolute_url())
    prompts = []
    page.once("dialog", lambda dialog: (prompts.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Break relationship").click()
    page.wait_for_timeout(300)
    assert prompts and prompts[0].startswith("Break the failover relationship?")
    assert page.url.endswith(pair.get_absolute_url())  # dismissed: nothing was submitted
    pair.refresh_from_db()
    assert pair.broken_at is None
    assert console_errors == []
