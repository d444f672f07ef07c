"""The runbook pages as a person sees them: refusal reasons, the unplanned question, bad input, roles, tenancy."""

from datetime import timedelta

from django.utils import timezone

from failover.models import MaintenanceWindow, Operation, OperationKind, PairState
from portal.models import Role
from tests.factories import ChangeLogEntryFactory, MaintenanceWindowFactory, OperationFactory, PairFactory


def established_pair(org, **fields):
    return PairFactory(organization=org, established_at=timezone.now(), **{"state": PairState.HEALTHY, **fields})


def test_runbook_page_shows_why_nothing_can_start_on_a_conflicted_pair(org_a, make_member, login):
    pair = established_pair(org_a, state=PairState.CONFLICT)
    page = login(make_member(org_a, Role.OPERATOR)).get(f"/failover/pairs/{pair.pk}/runbooks/").content.decode()
    assert "fix the conflict first" in page and 'id="start-planned" disabled' in page


def test_unplanned_runbook_needs_the_question_answered_and_shows_the_data_at_risk(org_a, make_member, login):
    pair = established_pair(org_a, last_sync_at=timezone.now() - timedelta(minutes=42))
    client = login(make_member(org_a, Role.OPERATOR))
    page = client.get(f"/failover/pairs/{pair.pk}/runbooks/").content.decode()
    assert "Data at risk" in page and "42" in page and "Have /login settings changed" in page
    response = client.post(f"/failover/pairs/{pair.pk}/runbooks/start/", {"kind": "unplanned_maintenance"},
                           follow=True)
    assert response.status_code == 200 and "Answer the question" in response.content.decode()
    assert not Operation.objects.filter(pair=pair).exists()
    client.post(f"/failover/pairs/{pair.pk}/runbooks/start/", {"kind": "unplanned_maintenance", "login_changed": "yes"})
    assert Operation.objects.get(pair=pair).params["login_changed"] is True


def test_bad_window_input_is_a_message_not_a_500(org_a, make_member, login):
    pair = established_pair(org_a)
    client = login(make_member(org_a, Role.OPERATOR))
    now = timezone.now()
    response = client.post(f"/failover/pairs/{pair.pk}/windows/", {
        "starts_at": now.strftime("%Y-%m-%dT%H:%M"), "ends_at": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
    }, follow=True)
    assert response.status_code == 200 and "must end after it starts" in response.content.decode()
    response = client.post(f"/failover/pairs/{pair.pk}/windows/", {"starts_at": "soon"}, follow=True)
    assert response.status_code == 200 and not MaintenanceWindow.objects.exists()


def test_viewer_sees_runbooks_but_cannot_start_one(org_a, make_member, login):
    pair = established_pair(org_a)
    client = login(make_member(org_a, Role.VIEWER))
    page = client.get(f"/failover/pairs/{pair.pk}/runbooks/").content.decode()
    assert "Planned maintenance" in page and "start-planned" not in page
    assert client.post(f"/failover/pairs/{pair.pk}/runbooks/start/", {"kind": "maintenance"}).status_code == 403
    assert not Operation.objects.exists()


def test_another_organisations_runbook_objects_answer_404(org_a, org_b, make_member, login):
    pair = established_pair(org_b)
    window = MaintenanceWindowFactory(pair=pair)
    operation = OperationFactory(pair=pair, kind=OperationKind.MAINTENANCE)
    client = login(make_member(org_a, Role.ADMIN))
    assert client.get(f"/failover/pairs/{pair.pk}/runbooks/").status_code == 404
    assert client.post(f"/failover/pairs/{pair.pk}/runbooks/start/", {"kind": "maintenance"}).status_code == 404
    assert client.post(f"/failover/maintenance-windows/{window.pk}/close/").status_code == 404
    assert client.post(f"/failover/operations/{operation.pk}/change-log/", {"text": "x"}).status_code == 404
    window.refresh_from_db()
    assert window.closed_at is None and not operation.change_log.exists()


def test_dashboard_lists_open_windows_and_the_change_log_shows_on_the_operation(org_a, make_member, login):
    pair = established_pair(org_a)
    MaintenanceWindowFactory(pair=pair, reason="disk swap")
    operation = OperationFactory(pair=pair, kind=OperationKind.MAINTENANCE)
    ChangeLogEntryFactory(operation=operation, text="Group policy Night shift added")
    client = login(make_member(org_a, Role.OPERATOR))
    dashboard = client.get("/").content.decode()
    assert 'id="maintenance-windows"' in dashboard and "disk swap" in dashboard
    assert "Night shift" in client.get(operation.get_absolute_url()).content.decode()
    assert client.get("/failover/drills/").status_code == 200


def test_fleet_exposure_puts_the_pair_never_synced_and_the_oldest_sync_first(org_a, make_member, login):
    from failover.exposure_selectors import fleet_exposure, pair_sync_age_series
    from failover.models import Pair, SyncResult
    from tests.factories import SyncRecordFactory

    now = timezone.now()
    fresh = established_pair(org_a, site_hostname="fresh.example.com", last_sync_at=now - timedelta(minutes=5))
    stale = established_pair(org_a, site_hostname="stale.example.com", last_sync_at=now - timedelta(hours=9))
    never = established_pair(org_a, site_hostname="never.example.com")
    for hours in (30, 20, 9):
        SyncRecordFactory(pair=stale, result=SyncResult.SUCCEEDED, started_at=now - timedelta(hours=hours),
                          finished_at=now - timedelta(hours=hours))
    OperationFactory(pair=fresh, kind=OperationKind.DRILL, status="succeeded",
                     result={"role_changes": [{"change": "swap_out", "verified_at": now.isoformat(), "rto_seconds": 12.5}]})
    rows = fleet_exposure(Pair.objects.all(), now=now)
    assert [row["pair"] for row in rows] == [never, stale, fresh]
    assert rows[1]["worst_sync_age"] == 11 * 3600 and rows[2]["worst_rto"] == 12.5
    times, ages = pair_sync_age_series(stale, now=now)
    assert ages == [10 * 3600, 11 * 3600, 9 * 3600]
    page = login(make_member(org_a, Role.VIEWER)).get("/failover/reports/exposure/").content.decode()
    assert page.index("never.example.com") < page.index("stale.example.com") < page.index("fresh.example.com")


def test_evacuation_pages_plan_first_refuse_bad_input_and_hide_other_organisations(org_a, org_b, make_member, login):
    from appliances.models import Appliance
    from failover.models import Evacuation
    from tests.factories import EvacuationFactory

    pair = established_pair(org_a, site_hostname="par.example.com")
    Appliance.objects.filter(pk__in=[pair.primary_id, pair.backup_id]).update(location="PAR-1")
    Appliance.objects.filter(pk=pair.primary_id).update(status_role="primary", status_reachable=True)
    client = login(make_member(org_a, Role.OPERATOR))
    assert "PAR-1" in client.get("/failover/evacuations/").content.decode()  # offered from the inventory
    response = client.post("/failover/evacuations/", {"organization": org_a.pk, "location": "PAR-1",
                                                      "direction": "evacuate", "concurrency": 5,
                                                      "stop_after_failures": 3})
    evacuation = Evacuation.objects.get()
    page = client.get(response.url).content.decode()
    assert "Both members stand in PAR-1" in page and "par.example.com" in page
    assert 'id="start-evacuation" disabled' in page  # nothing can move
    bad = client.post("/failover/evacuations/", {"organization": org_a.pk, "location": "PAR-1", "direction": "evacuate",
                                                 "concurrency": 500, "stop_after_failures": 3})
    assert bad.status_code == 200 and "less than or equal to 50" in bad.content.decode()
    foreign = client.post("/failover/evacuations/", {"organization": org_b.pk, "location": "X", "direction": "evacuate",
                                                     "concurrency": 1, "stop_after_failures": 1})
    assert "valid choice" in foreign.content.decode() and Evacuation.objects.count() == 1
    other = EvacuationFactory(organization=org_b)
    assert client.get(f"/failover/evacuations/{other.pk}/").status_code == 404
    assert client.post(f"/failover/evacuations/{other.pk}/start/").status_code == 404
    assert evacuation.status == "planned"


def test_an_alert_about_an_appliance_in_a_window_is_recorded_as_suppressed(org_a):
    from portal.services.alerts import alert_raise

    pair = established_pair(org_a)
    MaintenanceWindowFactory(pair=None, appliance=pair.primary, organization=org_a, reason="disk swap")
    covered = alert_raise(organization=org_a, kind="backup_down", dedup_key="in-window", subject="s", body="b",
                          scope=pair, target=pair.primary)
    assert "Maintenance window" in covered.suppressed_reason
    other = established_pair(org_a)
    elsewhere = alert_raise(organization=org_a, kind="backup_down", dedup_key="outside", subject="s", body="b",
                            scope=other)
    assert elsewhere.suppressed_reason == ""


def test_closing_a_window_goes_back_only_to_a_page_of_the_portal(org_a, make_member, login):
    pair = established_pair(org_a)
    client = login(make_member(org_a, Role.OPERATOR))
    for elsewhere in ("//evil.example/", "https://evil.example/", "/\\evil.example/"):
        window = MaintenanceWindowFactory(pair=pair)
        response = client.post(f"/failover/maintenance-windows/{window.pk}/close/", {"next": elsewhere})
        assert response.status_code == 302 and response["Location"] == "/failover/maintenance-windows/", elsewhere
    window = MaintenanceWindowFactory(pair=pair)
    response = client.post(f"/failover/maintenance-windows/{window.pk}/close/", {"next": f"/failover/pairs/{pair.pk}/"})
    assert response["Location"] == f"/failover/pairs/{pair.pk}/"


def test_drill_report_puts_the_slowest_recovery_first_and_counts_the_failed_drills(org_a, org_b, make_member, login):
    def drill(pair, status, *rtos):
        changes = [{"change": name, "rto_seconds": rto, "sync_age_seconds": 30}
                   for name, rto in zip(("swap_out", "swap_back"), rtos, strict=False)]
        return OperationFactory(pair=pair, kind=OperationKind.DRILL, status=status, result={"role_changes": changes})

    quick = drill(established_pair(org_a, site_hostname="quick.example.com"), "succeeded", 4.5, 5.0)
    slow = drill(established_pair(org_a, site_hostname="slow.example.com"), "succeeded", 8.0, 61.5)
    failed = drill(established_pair(org_a, site_hostname="failed.example.com"), "failed")
    drill(established_pair(org_b, site_hostname="elsewhere.example.com"), "succeeded", 99.0)
    page = login(make_member(org_a, Role.VIEWER)).get("/failover/drills/").content.decode()
    assert page.index(f"#{slow.pk}<") < page.index(f"#{quick.pk}<") < page.index(f"#{failed.pk}<")
    assert "61.5" in page and "8.0 / 61.5" in page and "1 drill(s) did not succeed" in page
    assert "elsewhere.example.com" not in page


def test_window_list_offers_close_only_for_windows_not_yet_over(org_a, make_member, login):
    pair = established_pair(org_a)
    now = timezone.now()
    windows = {
        "scheduled": MaintenanceWindowFactory(pair=pair, starts_at=now + timedelta(hours=1), ends_at=now + timedelta(hours=2)),
        "open": MaintenanceWindowFactory(pair=pair, starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1)),
        "ended": MaintenanceWindowFactory(pair=pair, starts_at=now - timedelta(hours=3), ends_at=now - timedelta(hours=2)),
        "closed": MaintenanceWindowFactory(pair=pair, starts_at=now - timedelta(hours=5), ends_at=now + timedelta(hours=1),
                                           closed_at=now - timedelta(hours=4)),
    }
    client = login(make_member(org_a, Role.OPERATOR))
    page = client.get("/failover/maintenance-windows/").content.decode()
    for state, window in windows.items():
        close_form = f'/failover/maintenance-windows/{window.pk}/close/"'
        assert (close_form in page) == (state in ("scheduled", "open")), state
    api = client.get("/api/v1/maintenance-windows/").json()
    assert {row["id"]: row["state"] for row in api["results"]} == {w.pk: state for state, w in windows.items()}
