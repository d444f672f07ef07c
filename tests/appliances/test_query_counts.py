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


def test_the_api_list_leaves_the_ca_bundles_to_the_detail_and_still_says_whether_a_secret_is_set(
        org_a, make_member, api_as):
    http = api_as(make_member(org_a, Role.ADMIN))
    with_secret = ApplianceFactory(organization=org_a, client_id="portal", client_secret="s3cret")
    without = ApplianceFactory(organization=org_a, client_id="", client_secret="")

    rows = {row["id"]: row for row in http.get("/api/v1/appliances/?limit=100").json()["results"]}
    detail = http.get(f"/api/v1/appliances/{with_secret.pk}/").json()

    assert "ca_bundle" not in rows[with_secret.pk] and "ca_bundle" in detail
    assert rows[with_secret.pk]["has_client_secret"] is True and rows[without.pk]["has_client_secret"] is False
    assert "client_secret" not in rows[with_secret.pk]


def test_search_matches_a_name_part_or_an_address_prefix_once_each_in_constant_queries(
        org_a, make_member, api_as, django_assert_max_num_queries):
    http = api_as(make_member(org_a, Role.ADMIN))
    by_name = ApplianceFactory(organization=org_a, name="edge-lisbon-01", management_host="10.9.0.1")
    by_address = ApplianceFactory(organization=org_a, name="core-porto", management_host="10.9.0.2")
    ApplianceAddressFactory(appliance=by_address, address="203.0.113.77")
    ApplianceAddressFactory(appliance=by_address, address="203.0.113.78")  # two matching addresses: listed once
    make_fleet(org_a, 30)
    http.get("/api/v1/appliances/?q=lisbon")  # warm up the token bookkeeping

    with django_assert_max_num_queries(8):
        lisbon = http.get("/api/v1/appliances/?q=LISBON").json()
    with django_assert_max_num_queries(8):
        addressed = http.get("/api/v1/appliances/?q=203.0.113.7").json()

    assert [row["id"] for row in lisbon["results"]] == [by_name.pk]
    assert [row["id"] for row in addressed["results"]] == [by_address.pk] and addressed["count"] == 1
