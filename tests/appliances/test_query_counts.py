"""Lists hold a constant number of queries however many rows they show."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.models import Role
from tests.factories import ApplianceAddressFactory, ApplianceFactory


def make_fleet(org, count):
    for _ in range(count):
        ApplianceAddressFactory(appliance=ApplianceFactory(organization=org))


def count_queries(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = fn()
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    "url", ["/appliances/?per_page=500", "/api/v1/appliances/?limit=500", "/api/v1/appliance-addresses/?limit=500"]
)
def test_appliance_list_query_count_is_constant_from_10_to_500_rows(url, org_a, make_member, api_as, login):
    admin = make_member(org_a, Role.ADMIN)
    http = api_as(admin) if url.startswith("/api/") else login(admin)
    fetch = lambda: http.get(url)  # noqa: E731
    make_fleet(org_a, 10)
    fetch()  # warm up: the first request of a session writes the session and token bookkeeping
    small = count_queries(fetch)
    make_fleet(org_a, 490)
    large = count_queries(fetch)
    assert large == small, f"{small} queries for 10 rows, {large} for 500"
    assert small <= 12
