"""In the browser: the outage panel on a pair whose primary is down, and Fix this error's preview and
confirmation on a pair with two primaries, against the simulated appliances."""

import pytest

from demo.fleet_loader import fleet_load
from failover.models import Operation, OperationKind, OperationStatus
from failover.operations import run_operation
from failover.probing import probe_appliances
from portal.models import Role
from portal.permissions import SYSTEM

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def loaded_pair(fresh_simulator, settings):
    settings.PROBE_FAILURES_TO_DOWN = 1
    settings.PROBE_SUCCESSES_TO_UP = 1
    sim = fresh_simulator
    loaded = fleet_load(actor=SYSTEM, fleet=sim.fleet_path, ca_pem=sim.ca_path.read_text(), port=sim.port, pairs=True)
    pair = next(iter(loaded.pairs.values()))
    probe_appliances([pair.primary_id, pair.backup_id])
    return sim, pair


def test_the_outage_panel_says_what_happened_and_what_to_do_in_order(page, sign_in, loaded_pair, make_member):
    sim, pair = loaded_pair
    sim.set_fault(pair.primary.management_host, "down")
    probe_appliances([pair.primary_id, pair.backup_id])
    sign_in(make_member(pair.organization, Role.OPERATOR, username="otto"))
    page.goto(pair.get_absolute_url())
    panel = page.locator("#outage-panel")
    panel.wait_for()  # loaded by htmx from the live status fragment
    assert "Primary unreachable" in panel.inner_text()
    assert "its first failed probe" in page.locator("#outage-happened").inner_text()
    assert "often quicker" in page.locator("#outage-next").inner_text()
    assert "at risk" in page.locator("#outage-risk").inner_text() or "No successful data sync" in \
        page.locator("#outage-risk").inner_text()
    actions = page.locator("#outage-actions a").all_inner_texts()
    assert actions == [f"Check {pair.primary.name}", f"Make {pair.backup.name} primary (last resort)"]
    page.locator("#outage-actions a").nth(1).click()
    assert page.url.endswith(f"#member-{pair.backup.pk}")  # the Become primary form of the standby


def test_fix_this_error_previews_and_acts_only_when_confirmed(page, sign_in, loaded_pair, make_member):
    sim, pair = loaded_pair
    sim.set_state(pair.backup.management_host, role="primary")
    probe_appliances([pair.primary_id, pair.backup_id])
    sign_in(make_member(pair.organization, Role.OPERATOR, username="oona"))
    page.goto(pair.get_absolute_url())
    page.locator("#fix-this-error").click()

    assert "Fix this error: preview" in page.locator("h1").inner_text()
    decision = page.locator("#fix-decision").inner_text()
    assert "decided by" in decision and "Who holds the traffic" in decision
    assert "configuration is overwritten" in page.locator("#fix-consequences").inner_text()
    assert page.locator("#fix-force").count() == 1  # two primaries: force is offered

    page.locator("#fix-go").click()  # not confirmed: the browser keeps the form
    assert "Fix this error: preview" in page.locator("h1").inner_text()
    assert not Operation.objects.filter(pair=pair, kind=OperationKind.FIX_CONFLICT).exists()

    page.locator("#fix-confirm").check()
    page.locator("#fix-go").click()
    page.wait_for_url(f"**{pair.get_absolute_url()}")
    operation = Operation.objects.get(pair=pair, kind=OperationKind.FIX_CONFLICT)
    run_operation(operation.pk)
    operation.refresh_from_db()
    assert operation.status == OperationStatus.SUCCEEDED, operation.error
    roles = {sim.state(m.management_host)["role"] for m in pair.members}
    assert roles == {"primary", "backup"}


def test_a_sync_first_swap_asks_first_and_says_users_are_disconnected(page, sign_in, loaded_pair, make_member):
    """Observation 10: no confirmation for sync-first swaps (every user is disconnected) while Break asked."""
    _sim, pair = loaded_pair
    sign_in(make_member(pair.organization, Role.OPERATOR, username="ossi"))
    page.goto(pair.get_absolute_url())
    messages = []
    page.once("dialog", lambda dialog: (messages.append(dialog.message), dialog.dismiss()))
    form = page.locator(f"#member-{pair.primary.pk} form[data-risky-swap]")
    form.locator("input[name=sync_first]").check()
    form.get_by_role("button", name="Become backup").click()
    assert messages and "every user on the current primary is disconnected" in messages[0]
    assert not Operation.objects.filter(pair=pair).exists()  # dismissed: nothing started
