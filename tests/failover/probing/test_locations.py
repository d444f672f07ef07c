"""Probe locations against the real simulator: each location probes from its own loopback source address (the
simulator cuts a source address off like a broken route), keeps its own view, and the appliance row holds the
combined verdict: down only on a quorum's word; isolated locations set aside and alerted."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db.models import F
from django.utils import timezone

from appliances.models import Appliance
from demo.fleet_loader import fleet_load
from failover.alerts import AlertKind
from failover.models import BackupSettings, LocationStatus, Pair, ProbeLocation, StatusChange
from failover.probing.locations import combine, probe_location_batch, quorum_required
from failover.services.autofailover import autofailover_decide
from failover.services.locations import (
    appliance_probe_locations_set,
    probe_location_create,
    probe_settings_set,
)
from failover.services.probes import probe_batches_by_location
from portal.models import Alert
from portal.permissions import SYSTEM
from simulator.testing import Silence, free_port
from tests.factories.appliances import appliance_status_set
from tests.factories.portal import MembershipFactory, OrganizationFactory, UserFactory
from tests.failover.swing.fixtures import loopback_silence_lock

SOURCES = {"east": "127.0.0.2", "west": "127.0.0.3", "north": "127.0.0.4"}


class LocationFleet:
    def __init__(self, sim, loaded):
        self.sim = sim
        self.organization = loaded.organizations[0]
        self.appliances = loaded.appliances
        self.pairs = list(loaded.pairs.values())
        self.pair = self.pairs[0]

    def sweep(self, *locations, times=1):
        """Every appliance probed from these locations (all three by default), each from its own address."""
        ids = [a.pk for a in self.appliances.values()]
        for _ in range(times):
            for name in locations or SOURCES:
                probe_location_batch(ids, location=name, source_address=SOURCES[name])
        self.pair = Pair.objects.select_related("primary__backup_settings", "backup__backup_settings").get(
            pk=self.pair.pk)
        return self.pair

    def cut(self, appliance, *locations):
        self.sim.set_fault(appliance.management_host, "cut", sources=[SOURCES[name] for name in locations])

    def view(self, appliance, location):
        return LocationStatus.objects.get(appliance=appliance, location=location)


@pytest.fixture(name="located")
def located_fixture(db, fresh_simulator, settings):
    settings.PROBE_FAILURES_TO_DOWN = 1
    settings.PROBE_SUCCESSES_TO_UP = 1
    settings.FAILOVER_KNOCK_TIMEOUT = 0.3
    sim = fresh_simulator
    loaded = fleet_load(actor=SYSTEM, fleet=sim.fleet_path, ca_pem=sim.ca_path.read_text(), port=sim.port, pairs=True)
    for name in SOURCES:
        probe_location_create(actor=SYSTEM, name=name)
    fleet = LocationFleet(sim, loaded)
    probe_settings_set(actor=SYSTEM, organization=fleet.organization, locations=list(SOURCES))
    pair = fleet.sweep()
    assert pair.state == "healthy", pair.state_reason
    return fleet


def test_quorum_is_a_majority_unless_the_organisation_sets_n():
    assert [quorum_required(locations=m, quorum=None) for m in (1, 2, 3, 4, 5)] == [1, 2, 2, 3, 3]
    assert quorum_required(locations=3, quorum=1) == 1
    assert quorum_required(locations=2, quorum=5) == 2  # never more than there are


def test_an_outage_is_counted_from_no_earlier_than_a_location_last_saw_the_appliance_answer(settings):
    """Two locations that did not probe the appliance while it was briefly back still count their old failure;
    the third saw it answer. The primary timeout must run from that answer, not from the old failure."""
    settings.PROBE_LOCATION_STALE_SECONDS = 120
    now = timezone.now()
    old_failure, answer = now - timedelta(seconds=70), now - timedelta(seconds=3)

    def view(location, reachable, *, failing_since=None, checked_at=now):
        return LocationStatus(location=location, status_reachable=reachable, status_failing_since=failing_since,
                              status_checked_at=checked_at)

    verdict = combine(locations=["east", "west", "north"], isolated={}, quorum=None, now=now, statuses=[
        view("east", True, checked_at=answer),
        view("west", False, failing_since=old_failure), view("north", False, failing_since=old_failure)])

    assert verdict.down is True
    assert verdict.failing_since == answer
    # East now sees it down too: its first failure came after its last answer, so the outage runs from there,
    # not from the older failures of the two locations that never saw it back.
    east_failure = now - timedelta(seconds=5)
    verdict = combine(locations=["east", "west", "north"], isolated={}, quorum=None, now=now, statuses=[
        view("east", False, failing_since=east_failure),
        view("west", False, failing_since=old_failure), view("north", False, failing_since=old_failure)])
    assert verdict.failing_since == east_failure
    # All down since the same outage: it runs from it.
    verdict = combine(locations=["east", "west", "north"], isolated={}, quorum=None, now=now, statuses=[
        view(name, False, failing_since=old_failure) for name in ("east", "west", "north")])
    assert verdict.failing_since == old_failure


def test_one_location_seeing_the_primary_down_is_not_an_outage(located):
    primary = located.pair.primary
    located.cut(primary, "east")

    pair = located.sweep()

    assert located.view(primary, "east").status_reachable is False
    assert located.view(primary, "west").status_reachable is True
    assert pair.primary.status_reachable is True and pair.state == "healthy", pair.state_reason
    assert not StatusChange.objects.filter(appliance=primary, reachable=False).exists()


def test_a_quorum_of_locations_calls_the_primary_down_and_the_history_records_it_once(located):
    primary = located.pair.primary
    located.cut(primary, "east", "west")

    pair = located.sweep(times=2)

    assert pair.primary.status_reachable is False
    assert pair.state == "primary_unreachable"
    assert "seen down from 2 of 3 locations (quorum 2)" in pair.primary.status_error
    assert "north: up" in pair.primary.status_error
    assert StatusChange.objects.filter(appliance=primary, reachable=False).count() == 1

    located.sim.clear_fault(primary.management_host)
    pair = located.sweep()
    assert pair.primary.status_reachable is True and pair.state == "healthy"


def test_the_organisation_may_ask_for_fewer_locations_than_a_majority(located):
    probe_settings_set(actor=SYSTEM, organization=located.organization, locations=list(SOURCES), quorum=1)
    located.cut(located.pair.primary, "north")

    assert located.sweep().state == "primary_unreachable"


def test_a_location_cut_off_from_everything_is_isolated_alerted_and_set_aside(located, settings):
    settings.PROBE_ISOLATION_MIN_APPLIANCES = 3
    located.sim.cut_source(SOURCES["north"])
    try:
        pair = located.sweep("north")
        north = ProbeLocation.objects.get(name="north")
        assert north.isolated and "failed at once" in north.isolation_reason
        alert = Alert.objects.get(kind=AlertKind.LOCATION_ISOLATED, organization=located.organization)
        assert "north" in alert.subject and "never triggers an automatic failover" in alert.body
        assert pair.primary.status_reachable is True  # its "down" is not counted

        # East also loses the primary: with north set aside that is 1 of 3, below the quorum of 2.
        located.cut(pair.primary, "east")
        pair = located.sweep()
        assert pair.primary.status_reachable is True and pair.state == "healthy"
        assert located.view(pair.primary, "north").status_reachable is False
    finally:
        located.sim.restore_source(SOURCES["north"])
    located.sweep("north")
    assert not ProbeLocation.objects.get(name="north").isolated


def test_a_location_whose_reference_targets_are_silent_is_isolated(located):
    silence = Silence()
    with loopback_silence_lock():
        try:
            port = free_port()
            silence.add("127.0.0.1", port)
            ProbeLocation.objects.filter(name="west").update(reference_targets=[f"127.0.0.1:{port}"])
            located.sweep("west")
        finally:
            silence.close()
    west = ProbeLocation.objects.get(name="west")
    assert west.isolated and "reference targets" in west.isolation_reason


def test_automatic_failover_waits_for_a_quorum_and_shows_each_locations_evidence(located):
    pair = located.pair
    Pair.objects.filter(pk=pair.pk).update(portal_auto_failover=True)
    BackupSettings.objects.filter(appliance_id=pair.backup_id).update(connectivity_test_ips=["127.0.0.1"])
    located.cut(pair.primary, "east", "west")
    pair = located.sweep(times=2)
    assert pair.state == "primary_unreachable"
    # The outage started a primary timeout ago (the locations' views stay fresh: they were just taken).
    later = timezone.now()
    pair.primary_unreachable_since = later - timedelta(seconds=pair.backup.backup_settings.primary_timeout + 1)

    decision = autofailover_decide(pair=pair, now=later)
    # The standby's connectivity test IPs are knocked from east and west (loopback: they answer).
    assert decision.go, decision.reason
    assert "connectivity test IPs answer from east, west" in decision.reason
    assert "seen down from 2 of 3 locations" in decision.reason and "north: up" in decision.reason

    # West turns out to be isolated: its word no longer counts, and the portal says why it does not act.
    ProbeLocation.objects.filter(name="west").update(isolated_since=pair.primary_unreachable_since,
                                                     isolation_reason="test")
    decision = autofailover_decide(pair=pair, now=later)
    assert decision.code == "quorum"
    assert "west: isolated (test), set aside" in decision.reason


def test_the_dispatcher_sends_each_appliance_to_each_of_its_locations(located):
    single = next(a for a in located.appliances.values()
                  if a.pk not in {p.primary_id for p in located.pairs} | {p.backup_id for p in located.pairs})
    appliance_probe_locations_set(actor=SYSTEM, appliance=single, locations=["local"])
    ids = [a.pk for a in located.appliances.values()]

    plain, by_location = probe_batches_by_location([ids], now=timezone.now())

    assert plain == [[single.pk]]  # probed from local alone: the plain path, as before locations existed
    assert set(by_location) == set(SOURCES)
    assert all(sorted(pk for batch in batches for pk in batch) == sorted(set(ids) - {single.pk})
               for batches in by_location.values())


def test_a_location_still_busy_with_an_appliance_is_not_sent_it_again_until_it_reports(located, settings):
    """The appliance comes due again when its fastest location asks; a location that has not reported its last
    batch yet (slow, or its worker killed) must not be sent more of the same, or its queue outgrows it."""
    ids = [a.pk for a in located.appliances.values()]
    now = timezone.now()

    _plain, first = probe_batches_by_location([ids], now=now)
    assert all(sorted(pk for batch in first[name] for pk in batch) == sorted(ids) for name in SOURCES)

    located.sweep("east")  # east reported; west and north have not
    _plain, second = probe_batches_by_location([ids], now=now + timedelta(seconds=1))
    assert set(second) == {"east"}
    assert sorted(second["east"][0]) == sorted(ids)

    # A lost batch (worker killed, batch expired) holds the location only for the claim's lease.
    later = now + timedelta(seconds=settings.PROBE_CLAIM_LEASE_SECONDS + 1)
    _plain, third = probe_batches_by_location([ids], now=later)
    assert {"west", "north"} <= set(third)


def test_locations_must_exist_and_the_quorum_fit_them(db):
    organization = OrganizationFactory()
    with pytest.raises(ValidationError) as error:
        probe_settings_set(actor=SYSTEM, organization=organization, locations=["nowhere"])
    assert "Unknown probe location(s): nowhere" in str(error.value)
    with pytest.raises(ValidationError):
        probe_settings_set(actor=SYSTEM, organization=organization, locations=["local"], quorum=2)
    viewer = UserFactory()
    with pytest.raises(Exception, match="admin role"):
        probe_settings_set(actor=viewer, organization=organization, locations=["local"])


def test_the_appliance_page_and_the_api_show_each_locations_view(located, client):
    primary = located.pair.primary
    located.cut(primary, "east")
    located.sweep()
    viewer = MembershipFactory(organization=located.organization).user
    client.force_login(viewer)

    page = client.get(primary.get_absolute_url()).content.decode()
    panel = page[page.index('id="appliance-locations"'):]
    assert "seen down from 1 of 3 locations, quorum 2" in panel
    east_row = panel[panel.index("<td>east"):]
    assert east_row.index("<td>down</td>") < east_row.index("<td>west") < east_row.index("<td>up</td>")

    rows = client.get("/api/v1/location-status/", {"appliance": primary.pk}).json()["results"]
    assert {row["location"]: row["reachable"] for row in rows} == {"east": False, "west": True, "north": True}
    assert all(row["location_isolated"] == "" for row in rows)


def test_locations_read_answers_as_the_single_location_path_does(located):
    """One outcome applier for both probe paths: a plain /check_health answer is up (not "down everywhere"),
    and an API answer teaches the inventory its version and build."""

    primary = located.pair.primary
    Appliance.objects.filter(pk=primary.pk).update(product_version="", build="")
    backup = located.pair.backup
    Appliance.objects.filter(pk=backup.pk).update(client_id="", client_secret="", probe_client_id="",
                                                  probe_client_secret="")

    pair = located.sweep()

    assert located.view(backup, "east").status_reachable is True
    assert pair.backup.status_reachable is True, pair.backup.status_error
    primary.refresh_from_db()
    assert primary.product_version and primary.build


# The evaluation request's collapse key is shared by the xdist workers: the tests that read it run on one.
@pytest.mark.xdist_group("ticks-queue")
def test_a_location_batch_whose_quorum_calls_the_primary_down_requests_an_evaluation(located, settings):
    """As on the single-location path: the outage is acted on at once, not at the next beat tick."""
    from django.core.cache import cache

    from failover.tasks import probe_location_batch as probe_location_batch_task

    primary = located.pair.primary
    located.cut(primary, "east", "west")
    cache.delete("failover:evaluation-requested:now")
    ids = [a.pk for a in located.appliances.values()]
    for name in ("east", "west"):
        settings.PROBE_SOURCE_ADDRESS = SOURCES[name]
        probe_location_batch_task(ids, name)

    assert Pair.objects.get(pk=located.pair.pk).state == "primary_unreachable"
    assert cache.get("failover:evaluation-requested:now") == 1


def test_an_answer_seen_from_one_location_restarts_the_outage_though_a_quorum_still_counts_it_down(located, settings):
    """bench/chaos.py: a primary down briefly, back (north alone probed it then and saw it answer), then down
    again. East and west never probed it while it was back, so they still count their first failure, and with
    them a quorum kept calling it down from that failure: the primary timeout ran from an outage that had ended,
    and the portal failed over a primary that had been away for less than its timeout. The outage must start no
    earlier than the last answer any location saw."""
    pair = located.pair
    Pair.objects.filter(pk=pair.pk).update(portal_auto_failover=True)
    BackupSettings.objects.filter(appliance_id=pair.backup_id).update(connectivity_test_ips=["127.0.0.1"])
    primary = pair.primary.management_host
    located.sim.set_fault(primary, "down")
    located.sweep()
    # The first outage began a minute ago (as if every location had seen it down since).
    earlier = timedelta(minutes=1)
    LocationStatus.objects.filter(appliance=pair.primary).update(status_failing_since=F("status_failing_since") - earlier)
    appliance_status_set(pair.primary_id, status_failing_since=F("status_failing_since") - earlier)
    first = located.sweep().primary_unreachable_since
    assert timezone.now() - first > earlier

    located.sim.clear_fault(primary)
    answered_at = timezone.now()
    located.sweep("north")  # north alone probes it while it is back: it answers
    assert located.view(pair.primary, "north").status_reachable is True
    located.sim.set_fault(primary, "down")
    pair = located.sweep("north")  # and sees it go down again; east and west still count their old failure

    assert pair.state == "primary_unreachable"
    assert pair.primary_unreachable_since >= answered_at
    # What an operator would notice: a primary timeout after the first failure, the portal still waits (the
    # views taken now still count then).
    settings.PROBE_LOCATION_STALE_SECONDS = 3600
    timeout = timedelta(seconds=pair.backup.backup_settings.primary_timeout)
    decision = autofailover_decide(pair=pair, now=first + timeout + timedelta(seconds=1))
    assert decision.code == "waiting", decision.reason


def _drop_database_connections() -> None:
    """What a database restart or a pooler's idle cut does to the portal's connections (bench/chaos.py: "PostgreSQL
    connections terminated"): every other backend of this database is ended."""
    import psycopg
    from django.db import connection

    params = connection.get_connection_params()
    with psycopg.connect(**{k: v for k, v in params.items() if k in ("dbname", "user", "host", "port", "password")},
                         autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                      "AND pid <> pg_backend_pid()")


@pytest.mark.django_db(transaction=True)
def test_a_location_batch_records_what_it_saw_though_the_database_connection_dropped_while_it_probed(located,
                                                                                                  monkeypatch):
    """bench/chaos.py: a batch held its connection through seconds of probing; dropped meanwhile, the write
    failed, the batch was retried (probing everything again) and expired, and a location said nothing about an
    appliance for 20-30 s while its primary was really down: the quorum lacked it and the failover was missed."""
    from failover.probing import locations

    probe = locations._probe

    def probe_then_drop(*args, **kwargs):
        outcomes = probe(*args, **kwargs)
        _drop_database_connections()  # while the probes were out
        return outcomes

    monkeypatch.setattr(locations, "_probe", probe_then_drop)
    located.sim.set_fault(located.pair.primary.management_host, "down")

    pair = located.sweep("east", "west")

    assert pair.state == "primary_unreachable", pair.state_reason
    assert "seen down from 2 of 3 locations" in pair.primary.status_error


def test_an_old_primary_back_as_primary_counts_as_answering_at_its_first_location_answer(located):
    """bench/chaos.py: an old primary back from a crash (the simulator brings it back primary, with its shared IP)
    beside the promoted backup. The fence acts at its first answer, but with locations that answer counted only
    once a quorum had probed it again (until then the quorum's older failures still called it down and its
    answer was dropped), so two primaries served for tens of seconds. One location's fresh answer is an answer:
    the member answers as primary again (not believed up yet) and the fencing rule sees the second primary."""
    from failover.pair_state import second_primary

    pair = located.pair
    old, new = pair.primary.management_host, pair.backup.management_host
    located.sim.set_fault(old, "down")
    located.sweep()
    located.sim.set_state(new, role="primary")  # the standby was promoted while the old primary was away
    pair = located.sweep()
    assert pair.backup.status_role == "primary" and pair.primary.status_reachable is False

    located.sim.clear_fault(old)  # back, still believing it is primary
    pair = located.sweep("north")  # east and west have not probed it since: they still see it down

    assert pair.primary.status_reachable is False  # a quorum still counts it down: not believed up yet
    assert second_primary(pair.primary, pair.backup) == pair.primary


@pytest.mark.django_db(transaction=True)
def test_a_location_batch_whose_connection_drops_while_it_writes_writes_once_more_without_probing_again(
        located, monkeypatch):
    """A connection dropped during the write failed the batch: its retry probed everything again, seconds in
    which the location said nothing (bench/chaos.py terminated connections every few seconds). The results are
    written once more on a new connection, and probed once."""
    from failover.probing import locations

    probe, mark = locations._probe, locations._mark_isolation
    probed, dropped = [], []

    def counting_probe(appliances, **kwargs):
        probed.append(len(appliances))
        return probe(appliances, **kwargs)

    def drop_then_mark(*args, **kwargs):
        if not dropped:  # the first write loses its connection
            dropped.append(True)
            _drop_database_connections()
        return mark(*args, **kwargs)

    monkeypatch.setattr(locations, "_probe", counting_probe)
    monkeypatch.setattr(locations, "_mark_isolation", drop_then_mark)
    located.sim.set_fault(located.pair.primary.management_host, "down")

    pair = located.sweep("east", "west")

    assert dropped and len(probed) == 2  # one probe per location: nothing probed twice
    assert pair.state == "primary_unreachable", pair.state_reason


def test_a_failure_is_not_counted_across_a_gap_in_a_locations_probes(located):
    """bench/chaos.py: locations that probed a crashed primary only every 15-20 s (busy, restarting) missed its
    6 s return between two crashes; their failure streaks spanned it, and the portal failed the primary over 7-11 s
    into the second crash. A location that has not probed the appliance for longer than two probe intervals and
    the probe timeout does not know whether it answered meanwhile: its outage starts again at its next failure."""
    pair = located.pair
    located.sim.set_fault(pair.primary.management_host, "down")
    located.sweep()
    # Every location's last probe, and its first failure, long ago (as if none had probed it since).
    gap = timedelta(seconds=2 * pair.primary.probe_interval + pair.primary.probe_timeout + 5)
    LocationStatus.objects.filter(appliance=pair.primary).update(
        status_failing_since=F("status_failing_since") - gap, status_checked_at=F("status_checked_at") - gap)
    appliance_status_set(pair.primary_id, status_failing_since=F("status_failing_since") - gap)
    probed_again = timezone.now()

    pair = located.sweep()

    assert pair.state == "primary_unreachable"
    assert located.view(pair.primary, "east").status_failing_since >= probed_again
    assert pair.primary_unreachable_since >= probed_again
