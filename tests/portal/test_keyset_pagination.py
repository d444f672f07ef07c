"""Keyset pagination (``?cursor=``): walking a list page by page, forwards then back, shows every row once, in
the list's order, whatever the ordering (ties and empty values included); a forged cursor is a 400."""

from datetime import timedelta

import pytest
from django.utils import timezone

from appliances.models import Appliance
from failover.services.advice import advice_sweep
from portal.api.pagination import encode_cursor
from portal.models import Role
from tests.factories import ApplianceFactory, BackupSettingsFactory, PairFactory
from tests.factories.failover import AlertFactory, OperationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(org_a, make_member, api_as):
    return api_as(make_member(org_a, Role.VIEWER))


def row_id(row):
    return row["id"]


def walk(api, path: str, key=row_id, **params) -> tuple[list, list]:
    """Every row's ``key`` (its id) forwards through the next links, then backwards from the last page through the
    previous links."""
    forward, page = [], api.get(path, {**params, "cursor": "", "limit": 2}).json()
    pages = [page]
    forward += [key(row) for row in page["results"]]
    while page["next"]:
        page = api.get(page["next"]).json()
        assert "count" not in page
        pages.append(page)
        forward += [key(row) for row in page["results"]]
    backward = list(reversed([key(row) for row in page["results"]]))
    while page["previous"]:
        page = api.get(page["previous"]).json()
        backward += list(reversed([key(row) for row in page["results"]]))
    return forward, list(reversed(backward))


@pytest.fixture
def appliances(org_a):
    now = timezone.now()
    checked = [now, now, None, now - timedelta(minutes=1), None, now + timedelta(minutes=1), now]
    return [ApplianceFactory(organization=org_a, status_checked_at=at) for at in checked]


@pytest.mark.parametrize("ordering", ["name", "-name", "management_host", "status_checked_at", "-status_checked_at"])
def test_a_cursor_walk_shows_every_appliance_once_in_order(api, appliances, ordering):
    field, descending = ordering.lstrip("-"), ordering.startswith("-")
    rows = list(Appliance.objects.filter(pk__in=[a.pk for a in appliances]))

    placeholder = {"status_checked_at": timezone.now()}.get(field, "")

    def key(a):
        # PostgreSQL's order: NULL sorts as the largest value; the id breaks ties (in the same direction).
        value = getattr(a, field)
        return value is None, placeholder if value is None else value, a.pk

    expected = [a.pk for a in sorted(rows, key=key, reverse=descending)]
    forward, backward = walk(api, "/api/v1/appliances/", ordering=ordering)
    assert forward == expected
    assert backward == expected


@pytest.mark.parametrize("path", ["/api/v1/pairs/", "/api/v1/alerts/", "/api/v1/operations/"])
def test_the_other_big_lists_walk_in_their_default_order(api, org_a, path):
    for _ in range(5):
        pair = PairFactory(organization=org_a)
        AlertFactory(pair=pair)
        OperationFactory(pair=pair)
    offset_order = [row["id"] for row in api.get(path, {"limit": 100}).json()["results"]]
    forward, backward = walk(api, path)
    assert forward == backward == offset_order
    assert len(forward) == 5


def test_the_advice_list_walks_in_its_order(api, org_a):
    """Findings sort on four columns (severity, site, pair, rule) before the id: each is part of the position."""
    for _ in range(3):
        pair = PairFactory(organization=org_a)
        BackupSettingsFactory(appliance=pair.primary, enable_backup_operations=True)
    advice_sweep()
    def finding(row):
        return row["pair"], row["code"]  # a finding is one rule of one pair (the API shows no id)

    offset_order = [finding(row) for row in api.get("/api/v1/advice/", {"limit": 100}).json()["results"]]
    forward, backward = walk(api, "/api/v1/advice/", key=finding)
    assert forward == backward == offset_order
    assert len(forward) > 3  # more than one finding per pair: the rule breaks ties within a pair


@pytest.mark.parametrize("cursor", ["not base64 !", encode_cursor(values=["a"]), encode_cursor(values=[{"x": 1}, 2]),
                                    encode_cursor(values=["yesterday", "x"])])
def test_a_forged_cursor_is_a_field_error(api, appliances, cursor):
    response = api.get("/api/v1/appliances/", {"cursor": cursor, "ordering": "-status_checked_at"})
    assert response.status_code == 400
    assert "cursor" in response.json()
