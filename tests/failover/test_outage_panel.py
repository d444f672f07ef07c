"""The outage panel (observation 8): what happened since when, data at risk, what to do, actions in the
procedure's order; against the real simulator through the pair's live status fragment."""

import re

import pytest

from failover.models import PairState, SyncRecord, SyncResult, SyncTrigger
from portal.models import Role
from tests.failover.probing.fleet import fleet_fixture  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def quick(settings):
    settings.PROBE_FAILURES_TO_DOWN = 1
    settings.PROBE_SUCCESSES_TO_UP = 1


def _fragment(client, pair):
    return client.get(f"/failover/pairs/{pair.pk}/status/fragment/").content.decode()


def _actions(html):
    return re.findall(r'<li class="mb-1"><a class="btn[^"]*" href="[^"]*">([^<]+)</a>', html)


def test_primary_down_says_what_happened_what_is_at_risk_and_what_to_do(fleet, quick, make_member, login):
    pair = fleet.pairs[1]
    fleet.probe()
    from django.utils import timezone

    SyncRecord.objects.create(organization=pair.organization, pair=pair, trigger=SyncTrigger.SCHEDULE,
                              started_at=timezone.now(), finished_at=timezone.now(), result=SyncResult.SUCCEEDED)
    client = login(make_member(fleet.organization, Role.OPERATOR))
    assert 'id="outage-panel"' not in _fragment(client, pair)

    fleet.sim.set_fault(pair.primary.management_host, "down")
    fleet.probe()
    assert pair.state == PairState.PRIMARY_UNREACHABLE
    html = _fragment(client, pair)
    assert 'id="outage-panel"' in html and "Primary unreachable" in html
    assert f"{pair.primary.name} (primary) has not answered since" in html and "its first failed probe" in html
    assert "Last good data sync 0 s ago" in html and "at risk if you fail over now" in html
    assert "often quicker" in html and "last resort" in html
    assert _actions(html) == [f"Check {pair.primary.name}", f"Make {pair.backup.name} primary (last resort)"]
    # The pair page no longer leads with Sync now.
    page = client.get(pair.get_absolute_url()).content.decode()
    assert 'btn-outline-secondary"><i class="bi bi-arrow-repeat"></i> Sync now' in page
    assert 'id="automatic-failover-owner"' in page and "Neither: nothing fails over" in page


def test_two_primaries_lead_to_fix_this_error(fleet, quick, make_member, login):
    pair = fleet.pairs[1]
    fleet.probe()
    fleet.sim.set_state(pair.backup.management_host, role="primary")
    fleet.probe()
    html = _fragment(login(make_member(fleet.organization, Role.OPERATOR)), pair)
    assert "Conflict: two primaries" in html
    assert _actions(html) == ["Fix this error…"]
