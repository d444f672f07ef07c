"""The real probe path against the simulator: faults injected through its control API show up as the right
status, history rows and pair state."""

import pytest

from failover.models import PairState, PairStateChange, StatusChange
from tests.simulator_profiles import parametrize_profiles

pytestmark = pytest.mark.django_db(transaction=True)


def history(appliance):
    return list(StatusChange.objects.filter(appliance=appliance).order_by("at", "id"))


def test_first_sweep_records_status_and_pair_state(fleet):
    report = fleet.probe()
    assert report.failed == 0
    pair = fleet.pairs[0]
    primary = pair.primary
    primary.refresh_from_db()
    assert primary.status_reachable is True
    assert primary.status_role == "primary"
    assert primary.status_latency_ms > 0
    assert primary.status_last_sync_status == "Success"
    assert primary.status_shared_ips == ["127.250.0.1"]  # shared IPs are enabled on the primary only
    pair.backup.refresh_from_db()
    assert pair.backup.status_role == "backup" and pair.backup.status_shared_ips == []
    assert primary.next_probe_at > primary.status_checked_at
    assert pair.state == PairState.HEALTHY
    assert pair.last_status_check_at is not None and pair.last_sync_at is not None
    (change,) = history(primary)
    assert change.reachable is True and change.role == "primary"
    assert PairStateChange.objects.filter(pair=pair, state=PairState.HEALTHY, previous_state="never_checked").exists()


def test_steady_state_writes_no_history(fleet):
    fleet.probe()
    rows = StatusChange.objects.count(), PairStateChange.objects.count()
    fleet.probe(times=2)
    assert (StatusChange.objects.count(), PairStateChange.objects.count()) == rows


def test_down_after_n_failures_not_after_one(fleet, settings):
    settings.PROBE_FAILURES_TO_DOWN = 3
    pair = fleet.pairs[0]
    fleet.probe()
    fleet.sim.set_fault(pair.primary.management_host, "down")

    fleet.probe()
    pair.primary.refresh_from_db()
    assert pair.primary.status_reachable is True
    assert pair.primary.status_failures == 1
    # An unconfirmed failure is re-checked soon, not a whole probe interval later.
    assert (pair.primary.next_probe_at - pair.primary.status_checked_at).total_seconds() == min(
        pair.primary.probe_interval, 10
    )
    assert len(history(pair.primary)) == 1
    pair.refresh_from_db()
    assert pair.state == PairState.HEALTHY

    fleet.probe(times=2)
    pair.primary.refresh_from_db()
    pair.refresh_from_db()
    assert pair.primary.status_reachable is False
    last = history(pair.primary)[-1]
    assert last.reachable is False and last.summary.startswith("down")
    assert "refused" in pair.primary.status_error.lower() or "connect" in pair.primary.status_error.lower()
    assert pair.state == PairState.PRIMARY_UNREACHABLE
    assert pair.primary_unreachable_since is not None


def test_up_again_after_m_successes(fleet, settings):
    settings.PROBE_FAILURES_TO_DOWN = 1
    settings.PROBE_SUCCESSES_TO_UP = 2
    pair = fleet.pairs[0]
    fleet.probe()
    fleet.sim.set_fault(pair.primary.management_host, "down")
    fleet.probe(pair.primary)
    fleet.sim.clear_faults()

    fleet.probe(pair.primary)
    pair.primary.refresh_from_db()
    assert pair.primary.status_reachable is False
    fleet.probe()
    pair.primary.refresh_from_db()
    pair.refresh_from_db()
    assert pair.primary.status_reachable is True
    assert [c.reachable for c in history(pair.primary)] == [True, False, True]
    assert pair.state == PairState.HEALTHY
    assert pair.primary_unreachable_since is None


def test_flapping_appliance_stays_up(fleet, settings):
    settings.PROBE_FAILURES_TO_DOWN = 3
    pair = fleet.pairs[0]
    fleet.probe()
    fleet.sim.set_fault(pair.backup.management_host, "flapping")  # every other connection reset
    fleet.probe(pair.backup, times=6)
    pair.backup.refresh_from_db()
    assert pair.backup.status_reachable is True
    assert len(history(pair.backup)) == 1


def test_two_primaries_is_a_conflict(fleet):
    pair = fleet.pairs[1]
    fleet.probe()
    fleet.sim.set_state(pair.backup.management_host, role="primary")
    fleet.probe()
    pair.refresh_from_db()
    assert pair.state == PairState.CONFLICT
    assert "primary" in pair.state_reason
    assert history(pair.backup)[-1].role == "primary"


def test_both_backup_during_a_swap_is_not_a_conflict(fleet, settings):
    settings.PAIR_SWAP_WINDOW_SECONDS = 120
    pair = fleet.pairs[2]
    fleet.probe()
    fleet.sim.set_state(pair.primary.management_host, role="backup")
    fleet.probe()
    pair.refresh_from_db()
    assert pair.state == PairState.DEGRADED
    assert pair.both_backup_since is not None

    settings.PAIR_SWAP_WINDOW_SECONDS = 0  # the swap has now taken longer than any swap should
    fleet.probe()
    pair.refresh_from_db()
    assert pair.state == PairState.CONFLICT_NO_PRIMARY
    assert "backup" in pair.state_reason


def test_unhealthy_appliance_degrades_the_pair(fleet):
    pair = fleet.pairs[3]
    fleet.probe()
    fleet.sim.set_fault(pair.backup.management_host, "unhealthy", message="Disk full")
    fleet.probe()
    pair.refresh_from_db()
    pair.backup.refresh_from_db()
    assert pair.backup.status_healthy is False
    assert pair.backup.status_error == "Disk full"
    assert pair.state == PairState.DEGRADED
    assert "Disk full" in pair.state_reason
    assert history(pair.backup)[-1].summary == "unhealthy; error: Disk full"


parametrize_profiles(globals(), "fleet")


def test_an_observed_sync_reads_its_status_as_the_pair_state_does():
    """One rule for "this sync succeeded": a status the pair state takes for success (e.g. "Completed") is a
    successful sync in the history too, and one it takes for a failure is a failed one."""
    from datetime import timedelta

    from django.utils import timezone

    from failover.models import SyncRecord, SyncResult
    from failover.pair_state import peer_trouble
    from failover.probing.syncs import record_observed_syncs
    from tests.factories.failover import PairFactory

    pair = PairFactory()
    finished = timezone.now() - timedelta(minutes=5)
    failed_at = finished - timedelta(hours=1)
    assert record_observed_syncs([(pair.backup_id, finished, "Completed"),
                                  (pair.backup_id, failed_at, "Failed: lost contact")]) == 2

    results = dict(SyncRecord.objects.filter(pair=pair).values_list("message", "result"))
    assert results == {"Completed": SyncResult.SUCCEEDED, "Failed: lost contact": SyncResult.FAILED}
    member = pair.backup
    member.status_error, member.status_last_sync_status = "", "Completed"
    assert peer_trouble(member) == ""
