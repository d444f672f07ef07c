"""The interactive API documentation works with no internet: its assets are served by the portal."""

import pytest

from portal.models import Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_swagger_ui_renders_the_portal_schema_offline(page, sign_in, org_a, make_member, live_server):
    requested_hosts = set()
    page.on("request", lambda request: requested_hosts.add(request.url.split("/")[2]))
    sign_in(make_member(org_a, Role.VIEWER, username="reader"))
    page.goto("/api/docs/")
    page.locator(".swagger-ui .title", has_text="Failover Portal API").wait_for(timeout=20_000)
    assert page.locator("text=/api/v1/appliances/").count() > 0
    assert requested_hosts == {live_server.url.split("/")[2]}
