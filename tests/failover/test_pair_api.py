"""REST: every pair action, idempotency keys, permissions, validation and query counts."""

import pytest

from failover.models import Operation, OperationKind, OperationStatus
from failover.operations import run_operation
from failover.services.advice import advice_sweep
from portal.models import Role
from tests.factories import BackupSettingsFactory, PairFactory
from tests.failover.operations.conftest import ops_fleet  # noqa: F401  (fixture)


def url(pair, action=""):
    return f"/api/v1/pairs/{pair.pk}/" + (f"{action}/" if action else "")


def test_sync_with_an_idempotency_key_runs_once_however_often_it_is_retried(ops_fleet, make_member, api_as):  # noqa: F811
    api = api_as(make_member(ops_fleet.organization, Role.OPERATOR))
    pair = ops_fleet.pair
    first = api.post(url(pair, "sync"), {"reason": "before maintenance"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = api.post(url(pair, "sync"), {"reason": "before maintenance"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"]
    assert Operation.objects.filter(pair=pair).count() == 1
    run_operation(first.json()["id"])
    detail = api.get(f"/api/v1/operations/{first.json()['id']}/").json()
    assert detail["status"] == OperationStatus.SUCCEEDED
    assert [s["status"] for s in detail["steps"]] == ["done", "done", "done"]
    assert detail["reason"] == "before maintenance"
    # Same key after completion: still the same operation, nothing new runs.
    assert api.post(url(pair, "sync"), {}, format="json", HTTP_IDEMPOTENCY_KEY="k-1").json()["id"] == first.json()["id"]
    # Without a key, a second request is refused while one is active.
    api.post(url(pair, "sync"), {}, format="json")
    busy = api.post(url(pair, "sync"), {}, format="json")
    assert busy.status_code == 400 and "already running" in str(busy.json())


def test_become_backup_over_rest_swaps_the_simulated_roles(ops_fleet, make_member, api_as):  # noqa: F811
    api = api_as(make_member(ops_fleet.organization, Role.OPERATOR))
    pair = ops_fleet.pair
    response = api.post(url(pair, "become-backup"), {"appliance": pair.primary_id, "sync_first": True},
                        format="json", HTTP_IDEMPOTENCY_KEY="swap-1")
    assert response.status_code == 202, response.json()
    assert run_operation(response.json()["id"]) == OperationStatus.SUCCEEDED
    assert (ops_fleet.role(pair.primary), ops_fleet.role(pair.backup)) == ("backup", "primary")


def test_role_change_rejects_an_appliance_outside_the_pair_and_force_on_become_primary(ops_fleet, make_member, api_as):  # noqa: F811
    api = api_as(make_member(ops_fleet.organization, Role.OPERATOR))
    pair, other = ops_fleet.pairs[0], ops_fleet.pairs[1]
    assert api.post(url(pair, "become-primary"), {"appliance": other.primary_id}, format="json").status_code == 400
    response = api.post(url(pair, "become-primary"), {"appliance": pair.backup_id, "force": True}, format="json")
    assert response.status_code == 400 and "force" in response.json()
    assert api.post(url(pair, "become-primary"), {"appliance": "x"}, format="json").status_code == 400


def test_establish_over_rest_explains_the_failed_prechecks(ops_fleet, make_member, api_as):  # noqa: F811
    api = api_as(make_member(ops_fleet.organization, Role.ADMIN))
    response = api.post(url(ops_fleet.pair, "establish"), {"key_fingerprint": "00" * 32}, format="json")
    assert response.status_code == 400
    assert "already" in str(response.json())  # the fleet's pairs start established
    checks = api.get(url(ops_fleet.pair, "establish-checks")).json()
    assert {c["name"] for c in checks} >= {"software", "key", "subnet"}


def test_viewer_cannot_act_operator_can_other_organisation_gets_404(ops_fleet, make_member, api_as, org_b):  # noqa: F811
    pair = ops_fleet.pair
    viewer = api_as(make_member(ops_fleet.organization, Role.VIEWER))
    outsider = api_as(make_member(org_b, Role.ADMIN))
    operator = api_as(make_member(ops_fleet.organization, Role.OPERATOR))
    for action, body in (("sync", {}), ("fix-conflict", {}), ("become-backup", {"appliance": pair.primary_id}),
                         ("break", {}), ("establish", {})):
        assert viewer.post(url(pair, action), body, format="json").status_code == 403, action
        assert outsider.post(url(pair, action), body, format="json").status_code == 404, action
    assert viewer.get(url(pair)).status_code == 200
    assert outsider.get(url(pair)).status_code == 404
    assert operator.post(url(pair, "break"), {}, format="json").status_code == 403  # configuration: admin only
    assert operator.post(url(pair, "sync"), {}, format="json").status_code == 202
    assert not Operation.objects.filter(pair=pair, kind=OperationKind.BREAK).exists()


def test_backup_settings_are_validated_and_applied_on_the_appliance(ops_fleet, make_member, api_as):  # noqa: F811
    api = api_as(make_member(ops_fleet.organization, Role.ADMIN))
    settings_row = ops_fleet.pair.backup.backup_settings
    endpoint = f"/api/v1/backup-settings/{settings_row.pk}/"
    bad = api.patch(endpoint, {"sync_interval": 10, "primary_timeout": 5, "connectivity_test_ips": ["nope"]},
                    format="json")
    assert bad.status_code == 400
    assert set(bad.json()) >= {"connectivity_test_ips"}
    bad = api.patch(endpoint, {"sync_interval": 10, "primary_timeout": 5}, format="json")
    assert bad.status_code == 400 and {"sync_interval", "primary_timeout"} <= set(bad.json())
    good = api.patch(endpoint, {"sync_interval": 7200, "bandwidth_limit": 8000, "automatic_failover": True,
                                "connectivity_test_ips": ["127.1.0.1"]}, format="json")
    assert good.status_code == 200, good.json()
    applied = ops_fleet.state(ops_fleet.pair.backup)["settings"]
    assert applied["sync_interval"] == 7200 and applied["automatic_failover"] is True
    assert applied["bandwidth_limit"] == 8000 * 125  # kbit/s in the portal, bytes/s on the appliance
    assert applied["connectivity_test_ips"] == ["127.1.0.1"]


def test_shared_ips_over_rest_warn_that_the_peer_must_match(ops_fleet, make_member, api_as):  # noqa: F811
    api = api_as(make_member(ops_fleet.organization, Role.ADMIN))
    pair = ops_fleet.pair
    response = api.post(url(pair, "shared-ips"), {"appliance": pair.backup_id, "ips": ["127.250.0.9"]}, format="json")
    assert response.status_code == 200
    assert any("set it to match" in w for w in response.json()["warnings"])
    assert ops_fleet.state(pair.backup)["shared_ips"] == ["127.250.0.9"]


@pytest.mark.django_db
def test_pair_list_and_operation_list_hold_a_constant_number_of_queries(org_a, make_member, api_as,
                                                                        django_assert_max_num_queries):
    api = api_as(make_member(org_a, Role.VIEWER))
    for _ in range(12):
        pair = PairFactory(organization=org_a)
        BackupSettingsFactory(appliance=pair.primary)
        Operation.objects.create(organization=org_a, pair=pair, kind=OperationKind.SYNC, status="succeeded")
    with django_assert_max_num_queries(8):
        assert len(api.get("/api/v1/pairs/").json()["results"]) == 12
    with django_assert_max_num_queries(8):
        assert len(api.get("/api/v1/operations/").json()["results"]) == 12
    with django_assert_max_num_queries(10):
        api.get("/api/v1/advice/")


def test_guided_operation_is_confirmed_or_cancelled_over_rest(ops_fleet, make_member, api_as):  # noqa: F811
    from failover.services.operations import operation_start

    pair = ops_fleet.pair
    operator = make_member(ops_fleet.organization, Role.OPERATOR)
    operation = operation_start(actor=operator, pair=pair, kind=OperationKind.SYNC, params={"guided": True})
    assert run_operation(operation.pk) == "waiting"
    viewer = api_as(make_member(ops_fleet.organization, Role.VIEWER))
    assert viewer.post(f"/api/v1/operations/{operation.pk}/confirm/").status_code == 403
    api = api_as(operator)
    body = api.get(f"/api/v1/operations/{operation.pk}/").json()
    waiting = [s for s in body["steps"] if s["status"] == "waiting"]
    assert waiting and "Sync Now" in waiting[0]["detail"]
    assert api.post(f"/api/v1/operations/{operation.pk}/confirm/").status_code == 200
    cancelled = api.post(f"/api/v1/operations/{operation.pk}/cancel/", {"reason": "done by hand later"}, format="json")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == OperationStatus.CANCELLED
    assert api.post(f"/api/v1/operations/{operation.pk}/cancel/").status_code == 400


# -- the relationship's integrity -----------------------------------------------------------------------------


def _established(organization, **fields):
    from django.utils import timezone

    return PairFactory(organization=organization, established_at=timezone.now(), **fields)


@pytest.mark.django_db
def test_an_established_pair_keeps_its_members_and_network_method(org_a, make_member, api_as):
    from tests.factories import ApplianceFactory

    api = api_as(make_member(org_a, Role.ADMIN))
    pair = _established(org_a)
    spare = ApplianceFactory(organization=org_a)
    for body in ({"backup": spare.pk}, {"primary": spare.pk}, {"network_method": "dns_swing", "dns_server": "10.0.0.53",
                                                               "dns_zone": "example.com"}):
        response = api.patch(url(pair), body, format="json")
        assert response.status_code == 400, body
        field = next(iter(body))
        assert "Break the relationship first" in str(response.json()[field])
    pair.refresh_from_db()
    assert spare.pk not in (pair.primary_id, pair.backup_id) and pair.network_method == "shared_ip"
    # Anything else may change, and so may the members once the relationship is broken.
    assert api.patch(url(pair), {"site_hostname": "renamed.example.com"}, format="json").status_code == 200
    type(pair).objects.filter(pk=pair.pk).update(broken_at=pair.established_at)
    assert api.patch(url(pair), {"backup": spare.pk}, format="json").status_code == 200


@pytest.mark.django_db
def test_members_cannot_change_while_an_operation_runs(org_a, make_member, api_as):
    from tests.factories import ApplianceFactory

    api = api_as(make_member(org_a, Role.ADMIN))
    pair = PairFactory(organization=org_a)  # not established
    Operation.objects.create(organization=org_a, pair=pair, kind=OperationKind.ESTABLISH, status="running")
    response = api.patch(url(pair), {"backup": ApplianceFactory(organization=org_a).pk}, format="json")
    assert response.status_code == 400 and "operation is running" in str(response.json()["backup"])


@pytest.mark.django_db
def test_an_appliance_belongs_to_one_pair_at_most(org_a, make_member, api_as):
    from tests.factories import ApplianceFactory

    api = api_as(make_member(org_a, Role.ADMIN))
    taken = PairFactory(organization=org_a)
    spare = ApplianceFactory(organization=org_a)
    body = {"organization": org_a.pk, "site_hostname": "second.example.com", "primary": taken.backup_id,
            "backup": spare.pk, "network_method": "shared_ip", "shared_ip": "10.0.0.10", "backup_host": "10.0.0.2",
            "reverse_host": "10.0.0.1"}
    response = api.post("/api/v1/pairs/", body, format="json")
    assert response.status_code == 400 and taken.site_hostname in str(response.json()["primary"])
    other = PairFactory(organization=org_a)
    response = api.patch(url(other), {"backup": taken.primary_id}, format="json")
    assert response.status_code == 400 and "one pair at most" in str(response.json()["backup"])
    assert api.post("/api/v1/pairs/", {**body, "primary": ApplianceFactory(organization=org_a).pk},
                    format="json").status_code == 201


@pytest.mark.django_db
def test_an_established_pair_must_be_broken_before_it_is_deleted(org_a, make_member, api_as):
    from django.utils import timezone

    from failover.models import Pair

    api = api_as(make_member(org_a, Role.ADMIN))
    pair = _established(org_a)
    response = api.delete(url(pair))
    assert response.status_code == 400 and "break it first" in str(response.json())
    assert Pair.objects.filter(pk=pair.pk).exists()
    Pair.objects.filter(pk=pair.pk).update(broken_at=timezone.now())
    assert api.delete(url(pair)).status_code == 204


@pytest.mark.django_db
def test_sync_history_is_read_from_the_syncs_endpoint_only(org_a, make_member, api_as):
    from tests.factories import SyncRecordFactory

    api = api_as(make_member(org_a, Role.VIEWER))
    pair, other = PairFactory(organization=org_a), PairFactory(organization=org_a)
    mine = SyncRecordFactory(pair=pair)
    SyncRecordFactory(pair=other)
    assert api.get(url(pair, "syncs")).status_code == 404  # one way to read it: /api/v1/syncs/?pair=
    assert [row["id"] for row in api.get(f"/api/v1/syncs/?pair={pair.pk}").json()["results"]] == [mine.pk]


@pytest.mark.django_db
def test_advice_filters_are_validated_and_the_list_is_paginated(org_a, make_member, api_as):
    api = api_as(make_member(org_a, Role.VIEWER))
    for _ in range(3):
        pair = PairFactory(organization=org_a)
        BackupSettingsFactory(appliance=pair.primary, enable_backup_operations=True)
    advice_sweep()  # the stored findings, as the beat sweep leaves them
    for query, field in (("code=no_such_rule", "code"), ("severity=apocalyptic", "severity"),
                         ("organization=999999", "organization")):
        response = api.get(f"/api/v1/advice/?{query}")
        assert response.status_code == 400 and field in response.json(), query
    page = api.get("/api/v1/advice/?code=primary_backup_operations&limit=2").json()
    assert page["count"] == 3 and len(page["results"]) == 2 and page["next"]


def test_shared_ips_that_cannot_be_recorded_never_reach_the_appliance(ops_fleet, make_member, api_as):  # noqa: F811
    api = api_as(make_member(ops_fleet.organization, Role.ADMIN))
    pair = ops_fleet.pair
    before = ops_fleet.state(pair.backup)["shared_ips"]
    # A /40 is valid for the serializer (IPv6 goes to 128) but not for an IPv4 address row.
    response = api.post(url(pair, "shared-ips"), {"appliance": pair.backup_id, "ips": ["127.250.0.9"],
                                                  "prefix_length": 40}, format="json")
    assert response.status_code == 400
    assert "prefix_length" in response.json()
    assert ops_fleet.state(pair.backup)["shared_ips"] == before
