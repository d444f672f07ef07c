"""The issue's "done when", end to end on a pair of vendor-only appliances established outside the portal: adopted
over REST with no change on the appliances, probed, swapped without and with "sync first", failed over
automatically when its primary dies (nothing in the way), its backups downloaded and kept, and its pages saying
where each value comes from."""

from pathlib import Path
from types import SimpleNamespace

import pytest

from appliances.backups import backup_download
from appliances.models import BackupStatus
from demo.fleet_loader import fleet_load
from failover.models import (
    BackupSettings,
    OperationKind,
    OperationStatus,
    Pair,
    PairState,
    SyncRecord,
    SyncResult,
)
from failover.services.operations import operation_start
from failover.services.pairs import backup_settings_update, pair_update
from portal.models import Role
from portal.permissions import SYSTEM
from tests.failover.swing.fixtures import SwingFleet, loopback_silence_lock

pytestmark = pytest.mark.django_db

DECLARED = {"enable_backup_operations": True, "primary_timeout": 60, "sync_interval": 3600, "bandwidth_limit": 0,
            "automatic_failover": False, "connectivity_test_ips": ["127.0.0.1"]}


def test_a_vendor_only_pair_from_adoption_to_automatic_failover(fresh_simulator, make_member, api_as, login, settings):
    settings.FAILOVER_POLL_INTERVAL = 0.02
    settings.PROBE_FAILURES_TO_DOWN = 1
    settings.PROBE_SUCCESSES_TO_UP = 1
    settings.FAILOVER_KNOCK_TIMEOUT = 0.3
    sim = fresh_simulator
    sim.set_profile("vendor")
    loaded = fleet_load(actor=SYSTEM, fleet=sim.fleet, ca_pem=Path(sim.ca_path).read_text(), port=sim.port)
    organization = loaded.organizations[0]
    admin = make_member(organization, Role.ADMIN, username="journey-admin")
    primary_spec, backup_spec = sim.pairs()[0]
    primary, backup = loaded.appliances[primary_spec["name"]], loaded.appliances[backup_spec["name"]]
    untouched = {spec["address"]: {k: sim.state(spec["address"])[k] for k in ("role", "role_history", "settings",
                                                                              "shared_ips", "sync_history")}
                 for spec in (primary_spec, backup_spec)}

    # Adopted over REST: read, recorded, nothing changed on the appliances.
    response = api_as(admin).post("/api/v1/pair-adoptions/", {"first": backup.pk, "second": primary.pk,
                                                              "site_hostname": "journey.sim.test"}, format="json")
    assert response.status_code == 201, response.json()
    assert {address: {k: sim.state(address)[k] for k in facts} for address, facts in untouched.items()} == untouched
    pair = Pair.objects.get(pk=response.json()["id"])
    assert (pair.primary, pair.backup) == (primary, backup) and pair.established_at

    fleet = SwingFleet(sim, SimpleNamespace(organizations=[organization], appliances=loaded.appliances,
                                            pairs={"journey": pair}))
    assert fleet.probe().state == PairState.HEALTHY

    def run(kind, appliance, **params):
        return fleet.run(operation_start(actor=admin, pair=pair, kind=kind, appliance=appliance, params=params))

    # Swapped without, then with "sync first" (the sync record closed from the reported sync time).
    assert run(OperationKind.BECOME_BACKUP, primary).status == OperationStatus.SUCCEEDED
    assert (fleet.role(primary), fleet.role(backup)) == ("backup", "primary")
    back = run(OperationKind.BECOME_PRIMARY, primary, sync_first=True)
    assert back.status == OperationStatus.SUCCEEDED, back.error
    assert (fleet.role(primary), fleet.role(backup)) == ("primary", "backup")
    assert SyncRecord.objects.get(operation=back).result == SyncResult.SUCCEEDED

    # Backup settings are declarations on vendor-only appliances; the portal's automatic failover relies on them.
    for member in (primary, backup):
        row, _ = BackupSettings.objects.get_or_create(appliance=member, organization=organization)
        assert backup_settings_update(actor=admin, backup_settings=row, data=DECLARED).provenance == "declared"
    pair_update(actor=admin, pair=pair, data={"portal_auto_failover": True})
    fleet.probe()

    # The primary dies: automatic failover, nothing in the way.
    with loopback_silence_lock():
        try:
            fleet.take_primary_down()
            decision = fleet.evaluate()
            assert decision.go, decision.reason
            failover = fleet.run(decision.operation)
        finally:
            fleet.silence.close()
    assert failover.status == OperationStatus.SUCCEEDED, failover.error
    assert fleet.role(backup) == "primary"

    # Its backups download and are kept.
    kept = backup_download(actor=admin, appliance=backup)
    assert kept.status == BackupStatus.SUCCEEDED and kept.size_bytes > 0, kept.failure_reason

    # Every setting on its pages says where it came from.
    page = login(admin).get(pair.get_absolute_url()).content.decode()
    assert "declared, not applied by the portal" in page and "read from the appliance" in page
    appliance_page = login(admin).get(backup.get_absolute_url()).content.decode()
    assert "Vendor API only" in appliance_page
