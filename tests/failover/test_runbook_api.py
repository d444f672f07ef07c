"""REST for runbooks, maintenance windows and evacuations, against the simulator: started, read, confirmed,
cancelled and logged through the same services as the pages; operators act, viewers read."""

from datetime import timedelta

from django.utils import timezone

from failover.models import (
    Evacuation,
    EvacuationItemStatus,
    EvacuationStatus,
    MaintenanceWindow,
    Operation,
    OperationKind,
    OperationStatus,
    PairState,
    StepStatus,
)
from failover.operations import run_operation
from failover.probing import probe_appliances
from portal.models import AuditEvent, Role
from tests.failover.operations.conftest import ops_fleet  # noqa: F401  (fixture)
from tests.failover.operations.test_evacuation import place, run_all


def start_url(pair) -> str:
    return f"/api/v1/pairs/{pair.pk}/runbooks/"


def ready(pair):
    pair.state = PairState.HEALTHY
    pair.save(update_fields=["state"])
    return pair


def test_planned_maintenance_walked_over_rest(ops_fleet, make_member, api_as):  # noqa: F811
    pair = ready(ops_fleet.pair)
    operator = api_as(make_member(ops_fleet.organization, Role.OPERATOR))
    viewer = api_as(make_member(ops_fleet.organization, Role.VIEWER))
    body = {"kind": OperationKind.MAINTENANCE, "window_minutes": 60, "reason": "firmware"}
    first = operator.post(start_url(pair), body, format="json", HTTP_IDEMPOTENCY_KEY="night-1")
    again = operator.post(start_url(pair), body, format="json", HTTP_IDEMPOTENCY_KEY="night-1")
    assert first.status_code == again.status_code == 202, first.json()
    runbook_id = first.json()["id"]
    assert again.json()["id"] == runbook_id and Operation.objects.filter(pair=pair).count() == 1
    assert viewer.post(start_url(pair), {"kind": OperationKind.MAINTENANCE}, format="json").status_code == 403

    run_operation(runbook_id)
    url = f"/api/v1/runbooks/{runbook_id}/"
    shown = viewer.get(url).json()  # a viewer reads where it stands
    assert shown["status"] == OperationStatus.RUNNING
    assert shown["waiting_for"]["name"] == "maintenance"
    assert pair.primary.name in shown["waiting_for"]["instructions"]
    assert {s["name"]: s["status"] for s in shown["steps"]}["swap_out"] == StepStatus.DONE
    [window_id] = shown["maintenance_windows"]
    window = viewer.get(f"/api/v1/maintenance-windows/{window_id}/").json()
    assert window["is_open"] and window["appliance"] == pair.primary_id and window["operation"] == runbook_id
    assert (ops_fleet.role(pair.backup), ops_fleet.role(pair.primary)) == ("primary", "backup")

    # Viewers read, operators act.
    assert viewer.post(f"{url}confirm/").status_code == 403
    assert viewer.post(f"{url}change-log/", {"text": "x"}, format="json").status_code == 403
    logged = operator.post(f"{url}change-log/", {"text": "Group policy Night shift added"}, format="json")
    assert logged.status_code == 201 and logged.json()["text"] == "Group policy Night shift added"
    assert operator.post(f"{url}change-log/", {"text": "  "}, format="json").status_code == 400

    confirmed = operator.post(f"{url}confirm/")
    assert confirmed.status_code == 200 and confirmed.json()["waiting_for"]["confirmed_at"]
    run_operation(runbook_id)
    done = viewer.get(url).json()
    assert done["status"] == OperationStatus.SUCCEEDED, done["error"]
    assert done["waiting_for"] is None
    assert [entry["text"] for entry in done["change_log"]] == ["Group policy Night shift added"]
    assert [change["change"] for change in done["result"]["role_changes"]] == ["swap_out", "swap_back"]
    assert (ops_fleet.role(pair.primary), ops_fleet.role(pair.backup)) == ("primary", "backup")
    assert not viewer.get(f"/api/v1/maintenance-windows/{window_id}/").json()["is_open"]
    verbs = set(AuditEvent.objects.filter(object_id=str(runbook_id)).values_list("verb", flat=True))
    assert {"start maintenance", "confirm step", "log /login change"} <= verbs
    # Only runbooks are listed as runbooks.
    run_operation(ops_fleet.start(OperationKind.SYNC).pk)
    listed = viewer.get("/api/v1/runbooks/").json()["results"]
    assert [row["id"] for row in listed] == [runbook_id]


def test_a_runbook_start_names_the_bad_input_and_the_refusal(ops_fleet, make_member, api_as):  # noqa: F811
    pair = ready(ops_fleet.pair)
    operator = api_as(make_member(ops_fleet.organization, Role.OPERATOR))
    unanswered = operator.post(start_url(pair), {"kind": OperationKind.UNPLANNED_MAINTENANCE}, format="json")
    assert unanswered.status_code == 400 and "login_changed" in unanswered.json()
    assert "kind" in operator.post(start_url(pair), {"kind": OperationKind.SYNC}, format="json").json()
    assert "window_minutes" in operator.post(start_url(pair), {"kind": OperationKind.MAINTENANCE,
                                                                "window_minutes": 5}, format="json").json()
    extra = operator.post(start_url(pair), {"kind": OperationKind.MAINTENANCE, "method": "synchronous"}, format="json")
    assert extra.status_code == 400 and "method" in extra.json()["params"][0]
    # A drill is a policy decision: an admin's.
    assert operator.post(start_url(pair), {"kind": OperationKind.DRILL}, format="json").status_code == 403
    other = ops_fleet.pairs[1]
    other.state = PairState.CONFLICT
    other.save(update_fields=["state"])
    refused = operator.post(start_url(other), {"kind": OperationKind.MAINTENANCE}, format="json")
    assert refused.status_code == 400 and "fix the conflict first" in str(refused.json())
    assert not Operation.objects.exists()


def test_unplanned_maintenance_flow_one_over_rest_and_cancel(ops_fleet, make_member, api_as):  # noqa: F811
    pair = ready(ops_fleet.pair)
    operator = api_as(make_member(ops_fleet.organization, Role.OPERATOR))
    ops_fleet.sim.set_fault(pair.primary.management_host, "down")
    started = operator.post(start_url(pair), {"kind": OperationKind.UNPLANNED_MAINTENANCE, "login_changed": False},
                            format="json")
    assert started.status_code == 202, started.json()
    assert started.json()["params"]["login_changed"] is False
    run_operation(started.json()["id"])
    url = f"/api/v1/runbooks/{started.json()['id']}/"
    shown = operator.get(url).json()
    assert shown["waiting_for"]["name"] == "maintenance"
    assert "Do not change /login settings" in shown["waiting_for"]["instructions"]
    assert ops_fleet.role(pair.backup) == "primary"
    cancelled = operator.post(f"{url}cancel/", {"reason": "postponed"}, format="json")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == OperationStatus.CANCELLED
    assert operator.post(f"{url}cancel/", {}, format="json").status_code == 400
    assert ops_fleet.role(pair.backup) == "primary"  # the interim primary keeps serving


def test_maintenance_windows_scheduled_and_closed_over_rest(ops_fleet, make_member, api_as):  # noqa: F811
    pair = ops_fleet.pair
    operator = api_as(make_member(ops_fleet.organization, Role.OPERATOR))
    viewer = api_as(make_member(ops_fleet.organization, Role.VIEWER))
    now = timezone.now()
    body = {"pair": pair.pk, "starts_at": (now - timedelta(minutes=1)).isoformat(),
            "ends_at": (now + timedelta(hours=2)).isoformat(), "reason": "rack move"}
    assert viewer.post("/api/v1/maintenance-windows/", body, format="json").status_code == 400  # not hers to use
    created = operator.post("/api/v1/maintenance-windows/", body, format="json")
    assert created.status_code == 201, created.json()
    window = created.json()
    assert window["is_open"] and window["organization"] == ops_fleet.organization.pk
    assert AuditEvent.objects.filter(verb="schedule maintenance window").exists()
    backwards = operator.post("/api/v1/maintenance-windows/", {**body, "ends_at": body["starts_at"],
                                                                "starts_at": body["ends_at"]}, format="json")
    assert backwards.status_code == 400 and "ends_at" in backwards.json()
    both = operator.post("/api/v1/maintenance-windows/", {**body, "appliance": pair.primary_id}, format="json")
    assert both.status_code == 400 and "appliance" in both.json()
    neither = operator.post("/api/v1/maintenance-windows/", {**body, "pair": None}, format="json")
    assert neither.status_code == 400 and "pair" in neither.json()

    assert [w["id"] for w in viewer.get("/api/v1/maintenance-windows/", {"open": "true"}).json()["results"]] == [
        window["id"]]
    assert viewer.post(f"/api/v1/maintenance-windows/{window['id']}/close/").status_code == 403
    closed = operator.post(f"/api/v1/maintenance-windows/{window['id']}/close/")
    assert closed.status_code == 200 and closed.json()["closed_at"] and not closed.json()["is_open"]
    assert operator.post(f"/api/v1/maintenance-windows/{window['id']}/close/").status_code == 400
    assert viewer.get("/api/v1/maintenance-windows/", {"open": "true"}).json()["results"] == []
    assert MaintenanceWindow.objects.count() == 1


def test_evacuation_planned_started_and_returned_over_rest(ops_fleet, make_member, api_as):  # noqa: F811
    place(ops_fleet)
    operator = api_as(make_member(ops_fleet.organization, Role.OPERATOR))
    viewer = api_as(make_member(ops_fleet.organization, Role.VIEWER))
    plan = {"organization": ops_fleet.organization.pk, "location": "PAR-1", "concurrency": 2}
    assert viewer.post("/api/v1/evacuations/", plan, format="json").status_code == 400
    assert operator.post("/api/v1/evacuations/", {**plan, "concurrency": 0}, format="json").status_code == 400
    planned = operator.post("/api/v1/evacuations/", plan, format="json")
    assert planned.status_code == 201, planned.json()
    evacuation = planned.json()
    assert evacuation["status"] == EvacuationStatus.PLANNED and evacuation["progress"]["queued"] == 3
    [blocked] = evacuation["blocked"]
    assert "Both members stand in PAR-1" in blocked["reason"]
    url = f"/api/v1/evacuations/{evacuation['id']}/"
    assert [item["site"] for item in viewer.get(url).json()["items"]] == sorted(
        pair.site_hostname for pair in ops_fleet.pairs[:3])
    assert not Operation.objects.exists()  # a plan touches nothing

    assert viewer.post(f"{url}start/").status_code == 403
    started = operator.post(f"{url}start/")
    assert started.status_code == 200 and started.json()["status"] == EvacuationStatus.RUNNING
    assert operator.post(f"{url}start/").status_code == 400
    run_all(Evacuation.objects.get(pk=evacuation["id"]))
    finished = viewer.get(url).json()
    assert finished["status"] == EvacuationStatus.DONE
    assert finished["progress"][EvacuationItemStatus.DONE] == 3
    assert all(item["operation"] for item in finished["items"])
    for pair in ops_fleet.pairs[:3]:
        assert ops_fleet.role(pair.backup) == "primary"
    assert operator.post(f"{url}cancel/").status_code == 400  # over already

    probe_appliances([a.pk for pair in ops_fleet.pairs for a in pair.members])
    back = operator.post("/api/v1/evacuations/", {**plan, "direction": "return"}, format="json")
    assert back.status_code == 201 and back.json()["returning"] == evacuation["id"]
    stopped = operator.post(f"/api/v1/evacuations/{back.json()['id']}/cancel/")
    assert stopped.status_code == 200 and stopped.json()["status"] == EvacuationStatus.CANCELLED


def test_the_evacuation_list_counts_each_ones_progress_without_loading_its_pairs(org_a, make_member, api_as):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import EvacuationFactory, EvacuationItemFactory, PairFactory

    viewer = api_as(make_member(org_a, Role.VIEWER))
    statuses = [EvacuationItemStatus.DONE, EvacuationItemStatus.DONE, EvacuationItemStatus.FAILED,
                EvacuationItemStatus.RUNNING, EvacuationItemStatus.QUEUED]
    expected = {}
    for size in range(1, 6):
        evacuation = EvacuationFactory(organization=org_a)
        for position, item_status in enumerate(statuses[:size]):
            EvacuationItemFactory(evacuation=evacuation, pair=PairFactory(organization=org_a), position=position,
                                  status=item_status)
        expected[evacuation.pk] = {value: statuses[:size].count(value) for value in EvacuationItemStatus.values}
    with CaptureQueriesContext(connection) as queries:
        rows = viewer.get("/api/v1/evacuations/").json()["results"]
    assert {row["id"]: row["progress"] for row in rows} == expected
    assert not [query["sql"] for query in queries if '"failover_pair"' in query["sql"]]  # no item, no pair loaded
    [evacuation_id] = [pk for pk, counts in expected.items() if sum(counts.values()) == 5]
    detail = viewer.get(f"/api/v1/evacuations/{evacuation_id}/").json()
    assert detail["progress"] == expected[evacuation_id] and [item["position"] for item in detail["items"]] == [
        0, 1, 2, 3, 4]
