"""Fleet dashboard, status pages and the status REST endpoints: right data, tenant-scoped, constant queries."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from failover.models import PairState
from tests.factories import (
    AlertFactory,
    ApplianceFactory,
    PairFactory,
    PairStateChangeFactory,
    RmaCaseFactory,
    StatusChangeFactory,
)

pytestmark = pytest.mark.django_db


def make_pairs(org, states):
    now = timezone.now()
    return [PairFactory(organization=org, state=state, state_reason=f"reason {i}", state_since=now - timedelta(minutes=i),
                        primary__status_checked_at=now, backup__status_checked_at=now,
                        last_sync_at=now - timedelta(hours=2))
            for i, state in enumerate(states)]


def test_dashboard_counts_and_attention_order(org_a, org_b, make_member, login):
    make_pairs(org_a, [PairState.HEALTHY, PairState.HEALTHY, PairState.SYNC_STALE, PairState.CONFLICT,
                       PairState.PRIMARY_UNREACHABLE])
    (hidden,) = make_pairs(org_b, [PairState.CONFLICT])
    page = login(make_member(org_a)).get(reverse("portal:dashboard"))
    html = page.content.decode()
    counts = page.context["panels"][0]["data"]["counts"]
    assert counts["total"] == 5
    assert {row["state"]: row["count"] for row in counts["states"]}["healthy"] == 2
    attention = page.context["panels"][0]["data"]["attention"]
    assert [p.state for p in attention] == [PairState.CONFLICT, PairState.PRIMARY_UNREACHABLE, PairState.SYNC_STALE,
                                            PairState.HEALTHY, PairState.HEALTHY]
    assert html.index(attention[0].site_hostname) < html.index(attention[3].site_hostname)
    assert hidden.site_hostname not in html
    assert 'hx-trigger="every 10s"' in html  # live


def test_dashboard_queries_do_not_grow_with_the_fleet(org_a, make_member, login, django_assert_max_num_queries):
    client = login(make_member(org_a))
    make_pairs(org_a, [PairState.CONFLICT] * 3)
    with django_assert_max_num_queries(12) as small:
        client.get(reverse("portal:dashboard"))
    make_pairs(org_a, [PairState.DEGRADED] * 20)
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(reverse("portal:dashboard"))


def test_appliance_status_page_shows_history(org_a, org_b, make_member, login):
    pair = PairFactory(organization=org_a)
    StatusChangeFactory(appliance=pair.primary, summary="down: connection refused", reachable=False)
    other = PairFactory(organization=org_b)
    client = login(make_member(org_a))
    page = client.get(reverse("failover:appliance_status", args=[pair.primary.pk]))
    assert page.status_code == 200
    assert "down: connection refused" in page.content.decode()
    fragment = client.get(reverse("failover:appliance_status_fragment", args=[pair.primary.pk]))
    assert "down: connection refused" in fragment.content.decode() and "<html" not in fragment.content.decode()
    assert client.get(reverse("failover:appliance_status", args=[other.primary.pk])).status_code == 404


def test_pair_status_panel_and_fragment(org_a, org_b, make_member, login):
    pair = PairFactory(organization=org_a, state=PairState.PRIMARY_UNREACHABLE, state_reason="a is unreachable: refused",
                       primary_unreachable_since=timezone.now())
    PairStateChangeFactory(pair=pair, state=PairState.PRIMARY_UNREACHABLE, previous_state="healthy", reason="went down")
    StatusChangeFactory(appliance=pair.backup, summary="role backup")
    client = login(make_member(org_a))
    fragment = client.get(reverse("failover:status_fragment", args=[pair.pk])).content.decode()
    assert "went down" in fragment and "role backup" in fragment and "primary unreachable since" in fragment
    page = client.get(reverse("failover:pair_status", args=[pair.pk]))
    assert "a is unreachable: refused" in page.content.decode()
    other = PairFactory(organization=org_b)
    assert client.get(reverse("failover:status_fragment", args=[other.pk])).status_code == 404


def test_status_rest_is_tenant_scoped(org_a, org_b, make_member, api_as):
    mine = PairFactory(organization=org_a, state=PairState.CONFLICT)
    theirs = PairFactory(organization=org_b)
    StatusChangeFactory(appliance=mine.primary, summary="up")
    StatusChangeFactory(appliance=theirs.primary, summary="secret-theirs")
    api = api_as(make_member(org_a))

    pairs = api.get("/api/v1/pair-status/").json()["results"]
    assert [(p["id"], p["state"]) for p in pairs] == [(mine.pk, "conflict")]
    assert pairs[0]["primary"]["name"] == mine.primary.name
    changes = api.get("/api/v1/status-changes/", {"appliance": mine.primary.pk}).json()["results"]
    assert [c["summary"] for c in changes] == ["up"]
    assert "secret-theirs" not in api.get("/api/v1/status-changes/").content.decode()
    assert api.get(f"/api/v1/pair-status/{theirs.pk}/").status_code == 404
    assert api.get(f"/api/v1/appliance-status/{theirs.primary.pk}/").status_code == 404


def test_status_rest_queries_are_constant(org_a, make_member, api_as, django_assert_max_num_queries):
    api = api_as(make_member(org_a))
    PairFactory.create_batch(3, organization=org_a)
    with django_assert_max_num_queries(10) as small:
        api.get("/api/v1/pair-status/")
    PairFactory.create_batch(20, organization=org_a)
    with django_assert_max_num_queries(len(small.captured_queries)):
        api.get("/api/v1/pair-status/")


def _alerts(org, n):
    AlertFactory.create_batch(n, organization=org, pair=PairFactory(organization=org))


def _status_changes(org, n):
    StatusChangeFactory.create_batch(n, organization=org, appliance=ApplianceFactory(organization=org))


def _pair_state_changes(org, n):
    PairStateChangeFactory.create_batch(n, organization=org, pair=PairFactory(organization=org))


@pytest.mark.parametrize(
    ("url", "make_rows"),
    [
        ("/api/v1/appliance-status/", lambda org, n: ApplianceFactory.create_batch(n, organization=org)),
        ("/api/v1/alerts/", _alerts),
        ("/api/v1/status-changes/", _status_changes),
        ("/api/v1/pair-state-changes/", _pair_state_changes),
    ],
)
def test_status_endpoints_hold_constant_queries(org_a, make_member, api_as, django_assert_max_num_queries,
                                                url, make_rows):
    api = api_as(make_member(org_a))
    make_rows(org_a, 10)
    with django_assert_max_num_queries(10) as small:
        assert api.get(url).json()["count"] == 10
    make_rows(org_a, 40)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert api.get(url).json()["count"] == 50


def test_alert_list_page_holds_constant_queries(org_a, make_member, login, django_assert_max_num_queries):
    client = login(make_member(org_a))
    _alerts(org_a, 10)
    with django_assert_max_num_queries(20) as small:
        assert client.get(reverse("failover:alert_list")).status_code == 200
    _alerts(org_a, 40)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(reverse("failover:alert_list")).status_code == 200


def _selects_secrets(queries) -> list[str]:
    return [q["sql"] for q in queries if any(f'"{name}"' in q["sql"] for name in (
        "client_secret", "ca_bundle", "tls_pin", "dns_tsig_secret"))]


def test_status_reads_never_load_secrets(org_a, make_member, login, api_as):
    """The status pages are polled every few seconds: loading a secret column decrypts it for nothing."""
    member = make_member(org_a)
    pair = make_pairs(org_a, [PairState.CONFLICT])[0]
    StatusChangeFactory(organization=org_a, appliance=pair.primary)
    AlertFactory(organization=org_a, pair=pair, appliance=pair.primary)
    RmaCaseFactory(appliance=pair.backup, pair=pair)  # the dashboard's replacement panel lists it
    client, api = login(member), api_as(member)
    reads = [
        lambda: api.get("/api/v1/appliance-status/"),
        lambda: api.get("/api/v1/pair-status/"),
        lambda: client.get(reverse("failover:appliance_status", args=[pair.primary.pk])),
        lambda: client.get(reverse("failover:appliance_status_fragment", args=[pair.primary.pk])),
        lambda: client.get(reverse("failover:pair_status", args=[pair.pk])),
        lambda: client.get(reverse("failover:alert_list")),
        lambda: client.get(reverse("portal:dashboard")),
    ]
    for read in reads:
        with CaptureQueriesContext(connection) as queries:
            response = read()
        assert response.status_code == 200
        assert _selects_secrets(queries.captured_queries) == [], response.request["PATH_INFO"]
