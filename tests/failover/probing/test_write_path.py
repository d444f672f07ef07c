"""What a probe writes (issue 16): a probe of an appliance whose shown status did not change updates its narrow
probe-status row and nothing else (no appliance row, no pair row, no history), as a HOT update (no indexed column
among those it writes); an appliance inserted in bulk is claimed and gets its row; the migration that made the
narrow rows keeps every existing appliance's probe status."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from appliances.models import PROBE_STATUS_FIELDS, Appliance, ApplianceProbeStatus
from appliances.models.probe_status import FILLFACTOR
from failover.models import PairState
from failover.probing.status_rows import APPLIANCE_STATUS_FIELDS
from failover.services.probes import probe_batches_claim
from tests.factories import ApplianceFactory, OrganizationFactory
from tests.portal.test_moved_models_migration import _migrate

pytestmark = pytest.mark.django_db(transaction=True)

NARROW = ApplianceProbeStatus._meta.db_table


def _writes(queries) -> list[tuple[str, str]]:
    """(statement, table) of every INSERT, UPDATE and DELETE in ``queries``."""
    writes = []
    for query in queries:
        match = re.match(r'\s*(INSERT INTO|UPDATE|DELETE FROM)\s+"?(\w+)"?', query["sql"])
        if match:
            writes.append((match.group(1).split()[0], match.group(2)))
    return writes


def _columns_set(queries, table: str) -> set[str]:
    """The columns the UPDATEs of ``table`` among ``queries`` assign."""
    columns = set()
    for query in queries:
        if re.match(rf'\s*UPDATE\s+"?{table}"?\s', query["sql"]):
            assignments = query["sql"].split(" SET ", 1)[1].split(" FROM ", 1)[0].split(" WHERE ", 1)[0]
            columns |= set(re.findall(r'"(\w+)"\s*=', assignments))
    return columns


def _indexed_columns(table: str) -> set[str]:
    """Columns any index of ``table`` reads: its key columns and those its expression or predicate names."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
                       "AND NOT attisdropped", [table])
        every = {name for (name,) in cursor.fetchall()}
        cursor.execute("""
            SELECT (SELECT array_agg(a.attname) FROM pg_attribute a
                    WHERE a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) AND a.attnum > 0),
                   coalesce(pg_get_expr(i.indexprs, i.indrelid), '') || ' ' || coalesce(pg_get_expr(i.indpred, i.indrelid), '')
            FROM pg_index i WHERE i.indrelid = %s::regclass""", [table])
        indexed = set()
        for keys, expressions in cursor.fetchall():
            indexed |= set(keys or ()) | {name for name in every if re.search(rf'\b{name}\b', expressions)}
    return indexed


def _updates(table: str) -> tuple[int, int]:
    """(row updates, HOT ones) of ``table`` so far, this connection's included."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = %s", [table])
        return cursor.fetchone()


def test_a_probe_of_an_unchanged_appliance_writes_only_its_narrow_row(fleet):
    fleet.probe()  # first contact: status, history and pair states are written
    assert {pair.state for pair in fleet.pairs} == {PairState.HEALTHY}
    checked = {a.pk: a.status_checked_at for a in fleet.appliances.values()}
    hot_before = _updates(NARROW)

    with CaptureQueriesContext(connection) as queries:
        report = fleet.probe()

    assert report.failed == 0 and report.probed == len(fleet.appliances)
    assert set(_writes(queries.captured_queries)) == {("UPDATE", NARROW)}  # one table, nothing else
    assert report.appliances_written == report.pairs_written == report.status_changes == 0
    # The page still shows the new check: the narrow row is what it reads, for appliances and pairs alike.
    for appliance in fleet.appliances.values():
        assert appliance.status_checked_at > checked[appliance.pk]
    for pair in fleet.pairs:
        assert pair.last_status_check_at == min(pair.primary.status_checked_at, pair.backup.status_checked_at)
    # HOT-eligible: none of the columns a probe writes is indexed; and PostgreSQL did update them in place.
    written = _columns_set(queries.captured_queries, NARROW)
    assert written == set(PROBE_STATUS_FIELDS)
    assert not written & _indexed_columns(NARROW)
    updated, hot = (after - before for after, before in zip(_updates(NARROW), hot_before, strict=True))
    assert updated == len(fleet.appliances) and hot == updated


def test_a_change_a_page_shows_is_written_to_the_appliance_and_its_pair(fleet, settings):
    settings.PROBE_FAILURES_TO_DOWN = 1
    fleet.probe()
    pair = fleet.pairs[0]
    fleet.sim.set_fault(pair.backup.management_host, "down")

    with CaptureQueriesContext(connection) as queries:
        report = fleet.probe()

    assert report.appliances_written == 1 and report.pairs_written == 1
    appliance_updates = [q for q in queries.captured_queries if re.match(r'\s*UPDATE "appliances_appliance" ', q["sql"])]
    assert len(appliance_updates) == 1
    pair.refresh_from_db()
    pair.backup.refresh_from_db()
    assert pair.backup.status_reachable is False and pair.backup.status_error
    assert pair.state == PairState.BACKUP_UNREACHABLE


def test_the_columns_a_probe_writes_on_the_appliance_row_are_not_indexed():
    """When a shown status changes the appliance row is written too: still no index entry to rewrite."""
    columns = {Appliance._meta.get_field(name).column for name in APPLIANCE_STATUS_FIELDS}
    assert not columns & _indexed_columns(Appliance._meta.db_table)


def test_the_narrow_table_leaves_room_for_hot_updates():
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE oid = %s::regclass", [NARROW])
        (options,) = cursor.fetchone()
    assert f"fillfactor={FILLFACTOR}" in (options or [])


def test_an_appliance_inserted_in_bulk_is_claimed_and_gets_its_row():
    org = OrganizationFactory()
    (bulk,) = Appliance.objects.bulk_create([Appliance(organization=org, name="bulk", management_host="127.0.0.9",
                                                       tls_pin="ab" * 32)])
    assert not ApplianceProbeStatus.objects.filter(appliance=bulk).exists()
    assert Appliance.objects.select_related("probe_status").get(pk=bulk.pk).status_checked_at is None  # never
    due_later = ApplianceFactory(organization=org)
    ApplianceProbeStatus.objects.filter(appliance=due_later).update(next_probe_at=timezone.now() + timedelta(hours=1))

    now = timezone.now()
    assert probe_batches_claim(now=now) == [[bulk.pk]]
    assert ApplianceProbeStatus.objects.get(appliance=bulk).next_probe_at > now  # leased
    assert probe_batches_claim(now=now) == []


def test_the_migration_keeps_each_appliances_probe_status():
    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
    checked, failing = timezone.now() - timedelta(seconds=30), timezone.now() - timedelta(minutes=2)
    try:
        executor = _migrate([("appliances", "0008_appliance_location")])
        apps = executor.loader.project_state([("appliances", "0008_appliance_location")]).apps
        org = apps.get_model("portal", "Organization").objects.create(name="Before Ltd", slug="before")
        old = apps.get_model("appliances", "Appliance").objects.create(
            organization=org, name="a", management_host="127.0.0.10", tls_pin="ab" * 32, status_reachable=False,
            status_checked_at=checked, status_latency_ms=None, status_error="connection refused",
            status_failures=4, status_successes=0, status_failing_since=failing, next_probe_at=checked)
        _migrate(leaves)
        row = ApplianceProbeStatus.objects.get(appliance_id=old.pk)
        assert (row.status_checked_at, row.status_error, row.status_failures, row.status_failing_since,
                row.next_probe_at) == (checked, "connection refused", 4, failing, checked)
        assert Appliance.objects.get(pk=old.pk).status_reachable is False
    finally:
        _migrate(leaves)
