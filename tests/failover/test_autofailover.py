"""The portal's automatic failover policy, against the simulator through the real probe path: when it acts,
when it refuses (and says why), that it acts once per outage, and the alerts around it. Every test runs against
both simulator profiles: automatic failover needs nothing beyond the vendor API."""

import socket
from datetime import datetime, timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from failover.alerts import AlertKind
from failover.models import (
    BackupSettings,
    Operation,
    OperationKind,
    OperationStatus,
    Pair,
    StepStatus,
)
from failover.pair_state import Countdown
from failover.probing import probe_appliances
from failover.services import autofailover
from failover.services.autofailover import autofailovers_evaluate
from failover.services.watch import pairs_watch
from failover.swing.knock import ACCEPTED, REFUSED, SILENT, answering, knock_results
from failover.tasks import evaluate_auto_failover, evaluation_request, probe_batch
from portal.models import Alert, AuditEvent
from portal.permissions import SYSTEM
from simulator.testing import free_port
from tests.failover.swing.fixtures import Silence, swing_fleet_fixture  # noqa: F401  (fixture swing_fleet)
from tests.simulator_profiles import extension_only, parametrize_profiles


def auto_failovers(pair) -> int:
    return Operation.objects.filter(pair=pair, kind=OperationKind.AUTO_FAILOVER).count()


def test_no_failover_before_the_backups_primary_timeout(swing_fleet):
    pair = swing_fleet.take_primary_down()
    decision = swing_fleet.evaluate(now=swing_fleet.past_timeout(seconds=-2))
    assert decision.code == "waiting"
    assert "automatic failover in 2 s" in decision.reason
    assert auto_failovers(pair) == 0


def test_failover_past_the_timeout_promotes_the_backup(swing_fleet):
    pair = swing_fleet.take_primary_down()
    decision = swing_fleet.evaluate()
    assert decision.go and decision.operation.kind == OperationKind.AUTO_FAILOVER
    operation = swing_fleet.run(decision.operation)
    assert operation.status == OperationStatus.SUCCEEDED, operation.error
    assert swing_fleet.role(pair.backup) == "primary"
    assert [s.status for s in operation.steps.order_by("index")] == ["done"] * 6
    failover = Alert.objects.get(pair=pair, kind=AlertKind.FAILOVER)
    assert pair.backup.name in failover.subject and failover.recipients == ["noc@example.com"]


def test_no_failover_while_the_portal_policy_is_off(swing_fleet):
    Pair.objects.filter(pk=swing_fleet.pair.pk).update(portal_auto_failover=False)
    pair = swing_fleet.take_primary_down()
    assert swing_fleet.evaluate().code == "off"
    assert auto_failovers(pair) == 0


def test_refused_and_explained_when_the_backups_own_automatic_failover_is_on(swing_fleet):
    BackupSettings.objects.filter(appliance=swing_fleet.pair.backup).update(automatic_failover=True)
    pair = swing_fleet.take_primary_down()

    first, second = swing_fleet.evaluate(), swing_fleet.evaluate()

    assert first.code == second.code == "builtin_on"
    assert "built-in" in first.reason and "two primaries" in first.reason
    assert auto_failovers(pair) == 0
    blocked = Alert.objects.filter(pair=pair, kind=AlertKind.AUTO_FAILOVER_BLOCKED)
    assert blocked.count() == 1  # explained once per outage, not at every evaluation
    assert "Turn one of them off" in blocked.get().body


def test_the_built_in_failover_counts_as_on_only_with_backup_operations_enabled(swing_fleet):
    # The same predicate as the countdown's: automatic failover with backup operations disabled cannot act.
    BackupSettings.objects.filter(appliance=swing_fleet.pair.backup).update(
        automatic_failover=True, enable_backup_operations=False)
    swing_fleet.take_primary_down()

    decision = swing_fleet.evaluate()

    assert decision.go, decision.reason
    countdown = Countdown.of(since=swing_fleet.pair.primary_unreachable_since, now=timezone.now(),
                             backup_settings=swing_fleet.pair.backup.backup_settings)
    assert not countdown.failover_enabled


def test_no_failover_when_the_backup_is_unreachable_too(swing_fleet):
    swing_fleet.sim.set_fault(swing_fleet.pair.backup.management_host, "down")
    pair = swing_fleet.take_primary_down()
    decision = swing_fleet.evaluate()
    assert decision.code == "standby_down" and "unreachable too" in decision.reason
    assert auto_failovers(pair) == 0


def test_no_failover_while_another_operation_runs(swing_fleet):
    pair = swing_fleet.take_primary_down()
    Operation.objects.create(organization=pair.organization, pair=pair, kind=OperationKind.SYNC,
                             status=OperationStatus.RUNNING)
    assert swing_fleet.evaluate().code == "busy"
    assert auto_failovers(pair) == 0


def test_one_failover_per_outage_however_often_it_is_evaluated(swing_fleet):
    pair = swing_fleet.take_primary_down()
    first = swing_fleet.evaluate()
    again_pending = swing_fleet.evaluate()
    swing_fleet.run(first.operation)
    again_done = swing_fleet.evaluate(now=swing_fleet.past_timeout(seconds=60))

    assert first.go
    assert again_pending.code == again_done.code == "done"
    assert again_done.operation.pk == first.operation.pk
    assert auto_failovers(pair) == 1
    assert Alert.objects.filter(pair=pair, kind=AlertKind.FAILOVER).count() == 1


def test_a_failed_automatic_failover_is_reported_once_and_not_retried(swing_fleet):
    # NAT swing through a NAT device that does not answer: the swing step fails.
    Pair.objects.filter(pk=swing_fleet.pair.pk).update(network_method="nat_swing", nat_public_address="127.200.0.1",
                                                       nat_device=f"http://127.0.0.1:{free_port()}")
    pair = swing_fleet.take_primary_down()
    operation = swing_fleet.run(swing_fleet.evaluate().operation)
    assert operation.status == OperationStatus.FAILED and "Could not reach the NAT device" in operation.error

    later = [swing_fleet.evaluate(now=swing_fleet.past_timeout(seconds=s)) for s in (10, 20)]

    assert [d.code for d in later] == ["done", "done"]
    assert auto_failovers(pair) == 1
    # Observation 7: never filed as "Failover performed".
    assert not Alert.objects.filter(pair=pair, kind=AlertKind.FAILOVER).exists()
    reported = Alert.objects.filter(pair=pair, kind=AlertKind.FAILOVER_UNFINISHED)
    assert [a.subject for a in reported] == [f"{pair.site_hostname}: automatic failover failed"]
    assert "not retried" in reported.get().body


def test_a_cancelled_automatic_failover_is_reported_as_cancelled_not_as_performed(swing_fleet, login, make_member):
    """Issue 11, item 7: a failover that stopped before promoting anyone must not reach the organisation (its
    alert list, its email) as "Failover performed"."""
    pair = swing_fleet.pair
    operation = swing_fleet.fail_over_while_the_old_primary_still_serves()
    assert operation.status == OperationStatus.CANCELLED

    later = swing_fleet.evaluate(now=swing_fleet.past_timeout(seconds=10))

    assert later.code == "done" and auto_failovers(pair) == 1  # not retried for this outage
    assert swing_fleet.role(pair.backup) == "backup"
    kinds = set(Alert.objects.filter(pair=pair).values_list("kind", flat=True))
    assert AlertKind.FAILOVER not in kinds
    reported = Alert.objects.get(pair=pair, kind=AlertKind.FAILOVER_UNFINISHED)
    assert reported.subject == f"{pair.site_hostname}: automatic failover cancelled"
    assert "still accepts connections on the shared IP" in reported.body
    page = login(make_member(swing_fleet.organization)).get(reverse("failover:alert_list")).content.decode()
    assert "<td>Automatic failover not completed</td>" in page and "<td>Failover performed</td>" not in page


def test_countdown_then_failover_alerts_are_recorded(swing_fleet):
    pair = swing_fleet.take_primary_down()
    since = pair.primary_unreachable_since

    pairs_watch(now=since + timedelta(seconds=60))
    countdown = Alert.objects.get(pair=pair, kind=AlertKind.PRIMARY_DOWN_COUNTDOWN)
    assert "automatic failover in 4 min 00 s" in countdown.subject

    swing_fleet.run(swing_fleet.evaluate().operation)
    kinds = list(Alert.objects.filter(pair=pair).order_by("created_at").values_list("kind", flat=True))
    assert kinds == [AlertKind.PRIMARY_DOWN_COUNTDOWN, AlertKind.FAILOVER]


def test_the_beat_task_starts_due_failovers(swing_fleet, settings):
    pair = swing_fleet.take_primary_down()
    BackupSettings.objects.filter(appliance=pair.backup).update(primary_timeout=30)
    Pair.objects.filter(pk=pair.pk).update(primary_unreachable_since=pair.primary_unreachable_since
                                           - timedelta(seconds=31))
    assert evaluate_auto_failover() == 1
    assert evaluate_auto_failover() == 0
    assert auto_failovers(pair) == 1


def _evaluation_queries(fleet, pairs) -> int:
    for pair in pairs:
        fleet.sim.set_fault(pair.primary.management_host, "down")
    probe_appliances([a.pk for pair in pairs for a in pair.members])
    Pair.objects.update(portal_auto_failover=True)
    with CaptureQueriesContext(connection) as queries:
        decisions = autofailovers_evaluate(now=timezone.now())
    assert [d.code for d in decisions] == ["waiting"] * len(pairs)
    return len(queries)


def test_evaluating_many_pairs_costs_the_same_queries_as_one(swing_fleet):
    pairs = list(Pair.objects.select_related("primary", "backup").order_by("pk"))
    assert len(pairs) == 4
    one = _evaluation_queries(swing_fleet, pairs[:1])
    swing_fleet.sim.clear_faults()
    many = _evaluation_queries(swing_fleet, pairs)
    assert one == many


def _failover_pass_queries(fleet, pairs) -> tuple[int, list[str]]:
    """Queries of one evaluation pass once these pairs' primaries have been down for an hour."""
    for pair in pairs:
        fleet.sim.set_fault(pair.primary.management_host, "down")
    probe_appliances([a.pk for pair in pairs for a in pair.members])
    Pair.objects.filter(pk__in=[pair.pk for pair in pairs]).update(
        portal_auto_failover=True, primary_unreachable_since=timezone.now() - timedelta(hours=1))
    with CaptureQueriesContext(connection) as queries:
        decisions = autofailovers_evaluate(now=timezone.now())
    return len(queries), sorted(d.code for d in decisions)


def test_a_pass_starting_many_failovers_costs_the_same_queries_as_one_starting_one(swing_fleet):
    """Issue 16: a pass created the operations of a mass outage one after another (~9 statements and the
    members' location verdicts per pair: ~6 failovers/s at 1,000 pairs). Now what the decisions need is read
    for all pairs at once and the failovers are inserted together, with their audit records."""
    BackupSettings.objects.update(connectivity_test_ips=["127.0.0.1"], automatic_failover=False)
    pairs = list(Pair.objects.select_related("primary", "backup").order_by("pk"))
    assert len(pairs) == 4

    one, first = _failover_pass_queries(swing_fleet, pairs[:1])
    many, second = _failover_pass_queries(swing_fleet, pairs[1:])

    assert first == ["go"]
    assert second == ["done", "go", "go", "go"]  # the first outage already has its failover
    assert many == one
    operations = Operation.objects.filter(kind=OperationKind.AUTO_FAILOVER)
    assert sorted(operations.values_list("pair_id", flat=True)) == [pair.pk for pair in pairs]
    assert {op.idempotency_key for op in operations} == {autofailover.outage_key(p) for p in Pair.objects.all()}
    # Each with its audit record, as when started one at a time.
    for operation in operations:
        assert AuditEvent.objects.get(object_type="failover.operation", object_id=str(operation.pk),
                                      verb="start auto_failover")


def test_a_pass_acting_on_stale_decisions_starts_no_second_failover(swing_fleet):
    """Two evaluation passes (e.g. a redelivered message beside a new one) that both decided "go": the one that
    starts second finds each outage's failover by its key (read again under the pairs' locks, and the database
    keeps the key unique) and answers with it; it starts nothing."""
    BackupSettings.objects.update(connectivity_test_ips=["127.0.0.1"], automatic_failover=False)
    pairs = list(Pair.objects.select_related("primary", "organization").order_by("pk"))
    for pair in pairs:
        swing_fleet.sim.set_fault(pair.primary.management_host, "down")
    probe_appliances([a.pk for pair in pairs for a in pair.members])
    Pair.objects.update(portal_auto_failover=True, primary_unreachable_since=timezone.now() - timedelta(hours=1))
    stale = [autofailover.autofailover_decide(pair=pair, now=timezone.now())
             for pair in Pair.objects.select_related("primary", "backup", "organization").order_by("pk")]
    assert [d.code for d in stale] == ["go"] * 4

    first = autofailovers_evaluate(now=timezone.now())
    # The second pass acts on its stale decisions, as if it had read the pairs before the first committed.
    second = autofailover._failovers_start(stale, {p.pk: p for p in Pair.objects.select_related("organization")})

    assert sorted(d.code for d in first) == ["go"] * 4
    assert [d.operation.pk for d in second] == sorted(d.operation.pk for d in first)  # the same operations
    assert [auto_failovers(pair) for pair in pairs] == [1, 1, 1, 1]


def test_a_mass_outage_is_started_over_several_passes_each_starting_its_share(swing_fleet, monkeypatch):
    """One evaluation pass starts at most STARTS_PER_PASS operations and leaves the rest to the next pass (so
    the probe dispatch on the same queue runs in between); together the passes start one failover per pair."""
    monkeypatch.setattr(autofailover, "STARTS_PER_PASS", 3)
    pairs = list(Pair.objects.select_related("primary", "backup").order_by("pk"))
    for pair in pairs:
        swing_fleet.sim.set_fault(pair.primary.management_host, "down")
    probe_appliances([a.pk for pair in pairs for a in pair.members])
    Pair.objects.update(portal_auto_failover=True,
                        primary_unreachable_since=timezone.now() - timedelta(hours=1))
    BackupSettings.objects.update(connectivity_test_ips=["127.0.0.1"], automatic_failover=False)

    first = autofailovers_evaluate(now=timezone.now())
    second = autofailovers_evaluate(now=timezone.now())
    third = autofailovers_evaluate(now=timezone.now())

    assert sorted(d.code for d in first) == ["deferred", "go", "go", "go"]
    assert sorted(d.code for d in second) == ["done", "done", "done", "go"]
    assert [d.code for d in third] == ["done"] * 4
    assert [auto_failovers(pair) for pair in pairs] == [1, 1, 1, 1]


def test_a_knock_counts_accepted_and_refused_as_answers_and_only_a_timeout_as_silence():
    with socket.socket() as listener, socket.socket() as bound_only:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        bound_only.bind(("127.0.0.1", 0))  # not listening: connection refused
        accepting, refusing = ("127.0.0.1", listener.getsockname()[1]), ("127.0.0.1", bound_only.getsockname()[1])
        assert accepting in answering([accepting], timeout=1.0)
        assert refusing in answering([refusing], timeout=1.0)
    silence = Silence()
    try:
        silence.add("127.0.0.1", free_port())
        port = silence._sockets[0].getsockname()[1]
        assert knock_results([("127.0.0.1", port)], timeout=0.3) == {("127.0.0.1", port): SILENT}
        assert not answering([("127.0.0.1", port)], timeout=0.3)
    finally:
        silence.close()


def test_knocking_many_addresses_at_once_tells_each_one_apart():
    """One pass over many targets (a mass outage's fence knocks and connectivity IPs): every accepting and every
    refusing address counts as an answer, every silent one as nobody there, each judged on its own."""
    listeners = [socket.socket() for _ in range(5)]
    refusing = [socket.socket() for _ in range(5)]
    silence = Silence()
    try:
        for sock in listeners:
            sock.bind(("127.0.0.1", 0))
            sock.listen(8)
        for sock in refusing:
            sock.bind(("127.0.0.1", 0))  # bound, not listening: the kernel refuses
        for _ in range(5):
            silence.add("127.0.0.1", free_port())
        accepted = [("127.0.0.1", s.getsockname()[1]) for s in listeners]
        refused = [("127.0.0.1", s.getsockname()[1]) for s in refusing]
        silent = [("127.0.0.1", s.getsockname()[1]) for s in silence._sockets[::3]]  # each add: listener, 2 fillers
        targets = [t for group in zip(silent, refused, accepted, strict=True) for t in group]

        results = knock_results(targets, timeout=0.3, source="127.0.0.1")

        assert {t: results[t] for t in accepted} == dict.fromkeys(accepted, ACCEPTED)
        assert {t: results[t] for t in refused} == dict.fromkeys(refused, REFUSED)
        assert {t: results[t] for t in silent} == dict.fromkeys(silent, SILENT)
        assert answering(targets, timeout=0.3) == set(accepted + refused)
    finally:
        silence.close()
        for sock in listeners + refusing:
            sock.close()


def _set_connectivity_ips(pair, ips):
    BackupSettings.objects.filter(appliance_id=pair.backup_id).update(connectivity_test_ips=ips)


def test_no_failover_without_connectivity_test_ips_and_it_is_explained(swing_fleet):
    _set_connectivity_ips(swing_fleet.pair, [])
    pair = swing_fleet.take_primary_down()

    decision = swing_fleet.evaluate()

    assert decision.code == "connectivity" and "no connectivity test IPs" in decision.reason
    assert auto_failovers(pair) == 0
    blocked = Alert.objects.get(pair=pair, kind=AlertKind.AUTO_FAILOVER_BLOCKED)
    assert "no connectivity test IPs" in blocked.body


def test_no_failover_when_the_connectivity_test_ips_are_silent(swing_fleet, settings):
    port = free_port()
    settings.FAILOVER_CONNECTIVITY_TEST_PORT = port
    swing_fleet.silence.add("127.0.0.1", port)  # as if the portal's own network were cut
    _set_connectivity_ips(swing_fleet.pair, ["127.0.0.1"])
    pair = swing_fleet.take_primary_down()

    decision = swing_fleet.evaluate()

    assert decision.code == "connectivity" and "127.0.0.1" in decision.reason
    assert "portal's own network" in decision.reason
    assert auto_failovers(pair) == 0


def test_a_refusing_connectivity_test_ip_counts_as_reachable(swing_fleet, settings):
    with socket.socket() as bound_only:
        bound_only.bind(("127.0.0.1", 0))
        settings.FAILOVER_CONNECTIVITY_TEST_PORT = bound_only.getsockname()[1]
        swing_fleet.take_primary_down()
        assert swing_fleet.evaluate().go


@extension_only  # the vendor API cannot report the appliance's own setting (see the vendor-only test below)
def test_the_operation_rechecks_the_appliances_own_setting_before_acting(swing_fleet):
    pair = swing_fleet.take_primary_down()
    operation = swing_fleet.evaluate().operation
    # Turned on at the appliance after the portal last read its settings.
    swing_fleet.sim.set_state(pair.backup.management_host, settings={"automatic_failover": True})

    operation = swing_fleet.run(operation)

    assert operation.status == OperationStatus.CANCELLED
    assert "built-in" in operation.error
    assert swing_fleet.role(pair.backup) == "backup"


def test_a_failover_resumed_after_a_crash_repeats_no_role_change_and_no_alert(swing_fleet):
    pair = swing_fleet.take_primary_down()
    operation = swing_fleet.run(swing_fleet.evaluate().operation)
    assert operation.status == OperationStatus.SUCCEEDED, operation.error
    history = swing_fleet.state(pair.backup)["role_history"]
    # As if the worker died while promoting: the promote step says "running", the rest never ran.
    Operation.objects.filter(pk=operation.pk).update(status=OperationStatus.RUNNING, finished_at=None)
    operation.steps.filter(name="promote").update(status=StepStatus.RUNNING, detail="")
    operation.steps.filter(index__gt=2).update(status=StepStatus.PENDING, detail="")

    operation = swing_fleet.run(operation)

    assert operation.status == OperationStatus.SUCCEEDED, operation.error
    assert "not repeated" in operation.steps.get(name="promote").detail
    assert swing_fleet.state(pair.backup)["role_history"] == history
    assert Alert.objects.filter(pair=pair, kind=AlertKind.FAILOVER).count() == 1
    assert operation.steps.get(name="notify").detail == "Failover alert was already recorded."


def test_a_guided_step_waiting_for_a_person_does_not_hold_automatic_failover_up(swing_fleet):
    from failover.services.operations import operation_start

    pair = swing_fleet.pair
    guided = operation_start(actor=SYSTEM, pair=pair, kind=OperationKind.SYNC, params={"guided": True})
    swing_fleet.run(guided)
    assert guided.steps.filter(status=StepStatus.WAITING).exists()
    swing_fleet.take_primary_down()
    decision = swing_fleet.evaluate()
    assert decision.go, decision.reason
    operation = swing_fleet.run(decision.operation)
    assert operation.status == OperationStatus.SUCCEEDED, operation.error
    assert swing_fleet.role(pair.backup) == "primary"
    guided.refresh_from_db()
    assert guided.status == OperationStatus.CANCELLED and "automatic failover" in guided.error.lower()


@pytest.mark.parametrize("swing_fleet", ["vendor"], indirect=True)
def test_on_a_vendor_only_backup_the_operation_says_it_relies_on_the_declared_settings(swing_fleet):
    pair = swing_fleet.take_primary_down()
    operation = swing_fleet.run(swing_fleet.evaluate().operation)
    assert operation.status == OperationStatus.SUCCEEDED, operation.error
    assert "relying on its declared backup settings" in operation.steps.order_by("index").first().detail
    assert swing_fleet.role(pair.backup) == "primary"




def _clear_evaluations_queue() -> None:
    import redis
    from django.conf import settings as django_settings

    redis.Redis.from_url(django_settings.CELERY_BROKER_URL).delete(django_settings.FAILOVER_EVALUATION_QUEUE)


def _queued_evaluations(moment: str) -> list[dict]:
    """The failover.evaluate_auto_failover messages waiting on the evaluations queue for ``moment`` (headers)."""
    import base64
    import json

    import redis
    from django.conf import settings as django_settings

    found = []
    for raw in redis.Redis.from_url(django_settings.CELERY_BROKER_URL).lrange(django_settings.FAILOVER_EVALUATION_QUEUE, 0, -1):
        message = json.loads(raw)
        headers = message["headers"]
        _args, kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        if headers["task"] == "failover.evaluate_auto_failover" and kwargs.get("moment", "now") == moment:
            found.append(headers)
    return found


# The broker's evaluations queue is shared by the xdist workers: these read it, so they run on one.
@pytest.mark.xdist_group("ticks-queue")
def test_while_the_timeout_runs_the_evaluation_asks_to_run_again_when_it_runs_out(swing_fleet):
    pair = swing_fleet.take_primary_down()
    due = swing_fleet.past_timeout(seconds=0)
    # The other profile's run may have asked for the same second: its message and the key that collapses
    # requests for that second (it would make this run's request a no-op) both go.
    _clear_evaluations_queue()
    cache.delete(f"failover:evaluation-requested:{int(due.timestamp())}")

    assert evaluate_auto_failover() == 0
    evaluate_auto_failover()  # a beat tick meanwhile asks for the same moment: still one message

    queued = _queued_evaluations(str(int(due.timestamp())))
    assert len(queued) == 1
    # Right after the timeout, not at a later beat tick (and dropped if no worker takes it soon after).
    eta = datetime.fromisoformat(queued[0]["eta"])
    assert due < eta <= due + timedelta(seconds=1)
    assert datetime.fromisoformat(queued[0]["expires"]) > eta
    assert auto_failovers(pair) == 0


# The broker's evaluations queue is shared by the xdist workers: these read it, so they run on one.
@pytest.mark.xdist_group("ticks-queue")
def test_requests_for_an_immediate_evaluation_collapse_until_it_starts(db):
    cache.delete("failover:evaluation-requested:now")
    assert evaluation_request() is True
    assert evaluation_request() is False  # one message is enough: it reads the rows when it runs
    evaluate_auto_failover()  # the evaluation starts: a change after this point needs a new one
    assert evaluation_request() is True


# The broker's evaluations queue is shared by the xdist workers: these read it, so they run on one.
@pytest.mark.xdist_group("ticks-queue")
def test_a_probe_that_sees_the_primary_go_down_requests_an_evaluation(swing_fleet):
    pair = swing_fleet.pair
    swing_fleet.sim.set_fault(pair.primary.management_host, "down")
    cache.delete("failover:evaluation-requested:now")

    assert probe_batch([pair.primary_id, pair.backup_id]) == 2

    assert Pair.objects.get(pk=pair.pk).state == "primary_unreachable"
    assert cache.get("failover:evaluation-requested:now") == 1  # sent now, not left to the next beat tick
    assert _queued_evaluations("now")


parametrize_profiles(globals(), "swing_fleet")
