"""The pair state machine against the real simulator, table-driven: for each state, the evidence that enters
it, the alert raised, the evidence that leaves it, and the recovery raised (only when the evidence says so)."""

import time
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone

from failover.alerts import AlertKind
from failover.models import PairState
from failover.operations import run_operation
from failover.services.watch import pairs_watch
from portal.models import Alert
from portal.permissions import SYSTEM
from tests.failover.operations.clients import client_for
from tests.failover.probing.fleet import fleet_fixture  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass
class Row:
    state: str
    enter: callable
    alert: str
    leave: callable
    recovery: str


def _role(fleet, appliance, role):
    fleet.sim.set_state(appliance.management_host, role=role)


def _sync_now_and_wait(fleet, pair, start=True):
    if start:
        client_for(pair.backup).sync_now()
    deadline = time.monotonic() + 10
    while fleet.sim.state(pair.backup.management_host)["sync_in_progress"] and time.monotonic() < deadline:
        time.sleep(0.05)


def _partition(fleet, pair):
    # A sync (slowed down by the backup's bandwidth limit) cut by a partition: the appliances report it failed.
    fleet.sim.set_state(pair.backup.management_host, settings={"bandwidth_limit": 4_000_000})
    client_for(pair.backup).sync_now()
    fleet.sim.set_fault(pair.backup.management_host, "partition")
    _sync_now_and_wait(fleet, pair, start=False)


def _heal_partition(fleet, pair):
    fleet.sim.clear_faults()
    _sync_now_and_wait(fleet, pair)


ROWS = [
    Row(PairState.CONFLICT, lambda f, p: _role(f, p.backup, "primary"), AlertKind.CONFLICT,
        lambda f, p: _role(f, p.backup, "backup"), AlertKind.CLEARED),
    Row(PairState.CONFLICT_NO_PRIMARY, lambda f, p: _role(f, p.primary, "backup"), AlertKind.CONFLICT_NO_PRIMARY,
        lambda f, p: _role(f, p.primary, "primary"), AlertKind.CLEARED),
    Row(PairState.PRIMARY_UNREACHABLE, lambda f, p: f.sim.set_fault(p.primary.management_host, "down"),
        AlertKind.PRIMARY_DOWN_COUNTDOWN, lambda f, p: f.sim.clear_faults(), AlertKind.PRIMARY_RECOVERED),
    Row(PairState.BACKUP_UNREACHABLE, lambda f, p: f.sim.set_fault(p.backup.management_host, "down"),
        AlertKind.BACKUP_DOWN, lambda f, p: f.sim.clear_faults(), AlertKind.CLEARED),
    Row(PairState.PEER_LINK_LOST, _partition, AlertKind.PEER_LINK_LOST, _heal_partition, AlertKind.CLEARED),
    Row(PairState.BROKEN_OUTSIDE, lambda f, p: _role(f, p.backup, "none"), AlertKind.BROKEN_OUTSIDE,
        lambda f, p: _role(f, p.backup, "backup"), AlertKind.CLEARED),
    Row(PairState.DEGRADED, lambda f, p: f.sim.set_fault(p.backup.management_host, "unhealthy", message="Disk full"),
        AlertKind.DEGRADED, lambda f, p: f.sim.clear_faults(), AlertKind.CLEARED),
    Row(PairState.RUNNING_ON_BACKUP, lambda f, p: (_role(f, p.primary, "backup"), _role(f, p.backup, "primary")),
        AlertKind.RUNNING_ON_BACKUP, lambda f, p: (_role(f, p.backup, "backup"), _role(f, p.primary, "primary")),
        AlertKind.CLEARED),
]


@pytest.fixture
def quick(settings):
    settings.PROBE_FAILURES_TO_DOWN = 1
    settings.PROBE_SUCCESSES_TO_UP = 1
    settings.PAIR_SWAP_WINDOW_SECONDS = 0


def _kinds(pair):
    return [a.kind for a in Alert.objects.filter(pair=pair).order_by("created_at", "id")]


@pytest.mark.parametrize("row", ROWS, ids=[r.state for r in ROWS])
def test_entering_alerts_and_leaving_recovers_only_on_evidence(fleet, quick, row):
    pair = fleet.pairs[1]
    fleet.probe()
    assert pair.state == PairState.HEALTHY
    assert pairs_watch(now=timezone.now()) == 0

    row.enter(fleet, pair)
    fleet.probe()
    assert pair.state == row.state, pair.state_reason
    assert pair.state_since is not None
    pairs_watch(now=timezone.now())
    assert _kinds(pair) == [row.alert]
    alert = Alert.objects.get(pair=pair)
    assert f"/pairs/{pair.pk}/" in alert.body, "every alert email links to its pair"

    # Still in the state: no recovery, and the alert is not repeated within its interval.
    pairs_watch(now=timezone.now())
    assert _kinds(pair) == [row.alert]

    row.leave(fleet, pair)
    fleet.probe()
    assert pair.state == PairState.HEALTHY, pair.state_reason
    pairs_watch(now=timezone.now() + timedelta(seconds=1))
    assert _kinds(pair) == [row.alert, row.recovery]
    pairs_watch(now=timezone.now() + timedelta(seconds=2))
    assert _kinds(pair) == [row.alert, row.recovery], "one recovery per episode"


def test_promoting_the_backup_is_no_recovery_of_a_primary_that_still_refuses(fleet, quick):
    """Observation 3: 'primary reachable again' went out while the old primary still refused connections."""
    pair = fleet.pairs[1]
    fleet.probe()
    fleet.sim.set_fault(pair.primary.management_host, "down")
    fleet.probe()
    pairs_watch(now=timezone.now())
    assert _kinds(pair) == [AlertKind.PRIMARY_DOWN_COUNTDOWN]

    _role(fleet, pair.backup, "primary")  # the operator promoted the backup by hand
    fleet.probe()
    assert pair.state == PairState.BACKUP_UNREACHABLE, pair.state_reason
    assert pair.primary.name in pair.state_reason
    pairs_watch(now=timezone.now())
    assert AlertKind.PRIMARY_RECOVERED not in _kinds(pair)
    assert _kinds(pair) == [AlertKind.PRIMARY_DOWN_COUNTDOWN, AlertKind.BACKUP_DOWN]

    # Observation 1/2: the old primary comes back still primary: two primaries, alerted.
    fleet.sim.clear_faults()
    _role(fleet, pair.primary, "primary")
    fleet.probe()
    assert pair.state == PairState.CONFLICT
    pairs_watch(now=timezone.now())
    kinds = _kinds(pair)
    assert AlertKind.CONFLICT in kinds
    assert AlertKind.PRIMARY_RECOVERED in kinds  # now it does answer


def test_the_outage_starts_at_the_first_failed_probe(fleet, settings):
    """Observation 4: the outage was dated from its confirmation (3 failures later)."""
    settings.PROBE_FAILURES_TO_DOWN = 3
    pair = fleet.pairs[1]
    fleet.probe()
    fleet.sim.set_fault(pair.primary.management_host, "down")
    sent_after = timezone.now()
    fleet.probe()
    # Dated from when the failed probe went out, not from when its result was written.
    first_failure = pair.primary.status_failing_since
    assert sent_after <= first_failure <= pair.primary.status_checked_at
    assert pair.state == PairState.HEALTHY  # not confirmed yet
    fleet.probe(times=2)
    assert pair.state == PairState.PRIMARY_UNREACHABLE
    assert pair.primary_unreachable_since == first_failure
    pairs_watch(now=first_failure + timedelta(seconds=30))
    countdown = Alert.objects.get(pair=pair)
    assert "down for 30 s" in countdown.subject


def test_a_role_change_outside_the_portal_is_recorded_and_bumps_the_epoch(fleet, quick):
    """Observation 11: the appliance's own failover or a click in /login did not bump the epoch, so an
    operation planned before it went ahead on roles that no longer held."""
    from failover.models import Operation, OperationKind, OperationStatus, PairStateChange
    from failover.services.operations import operation_start
    from tests.failover.operations.conftest import run_operation

    pair = fleet.pairs[1]
    fleet.probe()
    assert (pair.epoch, pair.roles_seen) == (0, "0:primary/backup")
    planned = operation_start(actor=SYSTEM, pair=pair, kind=OperationKind.BECOME_BACKUP, appliance=pair.primary)
    Operation.objects.filter(pk=planned.pk).update(status=OperationStatus.CANCELLED)  # not in flight yet
    fleet.probe()
    assert pair.epoch == 0  # nothing changed

    # Someone swaps the roles in /login.
    _role(fleet, pair.primary, "backup")
    _role(fleet, pair.backup, "primary")
    fleet.probe()
    assert pair.epoch == 1
    assert pair.last_outside_change["primary"] == pair.backup.pk
    note = PairStateChange.objects.filter(pair=pair, reason__contains="outside the portal").get()
    assert "primary/backup → backup/primary" in note.reason

    Operation.objects.filter(pk=planned.pk).update(status=OperationStatus.PENDING)
    run_operation(planned.pk)
    planned.refresh_from_db()
    assert planned.status == OperationStatus.CANCELLED
    assert "changed since this operation was planned" in planned.error


def test_an_old_primary_returning_with_its_stale_role_is_no_outside_change(fleet, quick):
    pair = fleet.pairs[1]
    fleet.probe()
    fleet.sim.set_fault(pair.primary.management_host, "down")
    fleet.probe()
    fleet.sim.clear_faults()
    fleet.probe()
    assert pair.epoch == 0 and pair.last_outside_change is None


def test_the_portals_own_role_change_is_no_outside_change(fleet, quick):
    from failover.models import OperationKind, OperationStatus
    from failover.services.operations import operation_start

    pair = fleet.pairs[0]  # the simulated pair with a shared IP: the swing step verifies it, no guided step
    type(pair).objects.filter(pk=pair.pk).update(network_method="shared_ip")
    fleet.probe()
    operation = operation_start(actor=SYSTEM, pair=pair, kind=OperationKind.BECOME_BACKUP, appliance=pair.primary)
    run_operation(operation.pk)  # ends by probing both members, after the operation is no longer active
    operation.refresh_from_db()
    assert operation.status == OperationStatus.SUCCEEDED, operation.error
    fleet.probe()
    assert pair.epoch == 1  # the operation's own bump only
    assert pair.last_outside_change is None


def test_maintenance_silences_bad_states_but_not_two_primaries(fleet, quick, make_member, login):
    from portal.models import AuditEvent, Role

    pair = fleet.pairs[1]
    fleet.probe()
    client = login(make_member(fleet.organization, Role.OPERATOR))
    client.post(f"/failover/pairs/{pair.pk}/maintenance/", {"on": "1", "note": "disk swap"})
    pair.refresh_from_db()
    assert pair.state == PairState.MAINTENANCE and "disk swap" in pair.state_reason
    assert AuditEvent.objects.filter(verb="start maintenance").exists()

    fleet.sim.set_fault(pair.primary.management_host, "down")
    fleet.probe()
    pairs_watch(now=timezone.now())
    assert pair.state == PairState.MAINTENANCE
    assert _kinds(pair) == []  # the planned outage alerts nobody

    fleet.sim.clear_faults()
    _role(fleet, pair.backup, "primary")
    fleet.probe()
    pairs_watch(now=timezone.now())
    assert pair.state == PairState.CONFLICT
    assert _kinds(pair) == [AlertKind.CONFLICT]  # two primaries alert even in maintenance

    _role(fleet, pair.backup, "backup")
    fleet.probe()
    client.post(f"/failover/pairs/{pair.pk}/maintenance/", {"on": "0"})
    pair.refresh_from_db()
    assert pair.state == PairState.HEALTHY and pair.maintenance_since is None


def test_a_maintenance_window_puts_the_pair_in_maintenance_and_the_evidence_decides_after(fleet, quick, make_member,
                                                                                          api_as):
    from portal.models import Role
    from portal.services.alerts import alert_raise

    pair = fleet.pairs[1]
    fleet.probe()
    assert pair.state == PairState.HEALTHY
    operator = api_as(make_member(fleet.organization, Role.OPERATOR))
    now = timezone.now()
    window = operator.post("/api/v1/maintenance-windows/", {
        "appliance": pair.backup_id, "starts_at": (now - timedelta(minutes=1)).isoformat(),
        "ends_at": (now + timedelta(hours=2)).isoformat(), "reason": "disk swap"}, format="json").json()
    pair.refresh_from_db()  # at once, not at the next probe
    assert pair.state == PairState.MAINTENANCE
    assert f"Maintenance window of {pair.backup.name}" in pair.state_reason and "until" in pair.state_reason
    shown = operator.get(f"/api/v1/pair-status/{pair.pk}/").json()
    assert shown["state"] == PairState.MAINTENANCE and "disk swap" in shown["state_reason"]

    fleet.sim.set_fault(pair.backup.management_host, "down")
    fleet.probe()
    pairs_watch(now=timezone.now())
    assert pair.state == PairState.MAINTENANCE
    assert _kinds(pair) == []  # the planned outage raises no state alert
    covered = alert_raise(organization=fleet.organization, kind=AlertKind.BACKUP_DOWN, dedup_key="by-hand",
                          subject="s", body="b", scope=pair, target=pair.backup)
    assert covered.suppressed_reason.startswith("Maintenance window")  # recorded, as suppressed
    Alert.objects.filter(pk=covered.pk).delete()

    # Closed early with the backup still away: the evidence speaks again, and alerts.
    operator.post(f"/api/v1/maintenance-windows/{window['id']}/close/")
    pair.refresh_from_db()
    assert pair.state == PairState.BACKUP_UNREACHABLE, pair.state_reason
    pairs_watch(now=timezone.now())
    assert _kinds(pair) == [AlertKind.BACKUP_DOWN]
    assert Alert.objects.get(pair=pair).suppressed_reason == ""
    fleet.sim.clear_faults()
    fleet.probe()
    pairs_watch(now=timezone.now() + timedelta(seconds=1))
    assert pair.state == PairState.HEALTHY
    assert _kinds(pair) == [AlertKind.BACKUP_DOWN, AlertKind.CLEARED]
