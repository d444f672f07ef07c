"""RMA cases: a full replacement walked through the UI and the API against the simulator, steps refused out of
order with the reason, inventory/pair/hardware history, attachments, permissions and tenancy."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from appliances.backups import backup_download
from appliances.connect import appliance_client
from appliances.models import Appliance
from portal.models import AuditEvent, Role
from rma.models import ApplianceHardwareRecord, HardwareEvent, RmaAttachment, RmaCase, RmaStatus, RmaStepState
from rma.selectors import pairs_without_failover_for_rma
from tests.factories import ApplianceFactory, PairFactory, RmaCaseFactory

from ..factories.rma import PNG_BYTES

pytestmark = pytest.mark.django_db

PRIMARY, DEFECTIVE, SPARE = "org-001-pair01-a", "org-001-pair01-b", "org-001-single01"


@pytest.fixture
def replacement_world(sim_inventory):
    """pair01 in the portal; its backup has died; the simulator's single appliance is the replacement box,
    not yet in the inventory, with the pair's inter-appliance key restored on it."""
    sim, org, appliances, admin = sim_inventory
    primary, defective = appliances[PRIMARY], appliances[DEFECTIVE]
    # DNS swing: the simulator's loopback addresses are not on a shared-IP subnet.
    pair = PairFactory(organization=org, primary=primary, backup=defective, site_hostname="pair01.sim.test",
                       network_method="dns_swing", dns_server="127.0.0.53", dns_zone="sim.test", shared_ip=None,
                       backup_host=defective.management_host, backup_port=sim.port,
                       reverse_host=primary.management_host, reverse_port=sim.port)
    spare = sim.appliance(SPARE)
    Appliance.objects.filter(pk=appliances[SPARE].pk).delete()
    sim.set_state(spare["address"], inter_appliance_key=sim.appliance(PRIMARY)["inter_appliance_key"])
    sim.set_fault(defective.management_host, "down")
    return sim, org, pair, spare, admin


def network_payload(sim, spare) -> dict:
    return {"step": "network", "management_host": spare["address"], "management_port": sim.port,
            "ca_bundle": Path(sim.ca_path).read_text(), "client_id": spare["client_id"],
            "client_secret": spare["client_secret"]}


def recorder(api, url):
    """Records one RMA step over REST and returns the case as the API answers it."""
    def record(payload):
        response = api.post(url, payload, format="json")
        assert response.status_code == 200, response.content
        return response.json()

    return record


def reestablish_by_hand(sim, pair, spare):
    """What the admin does on the primary's /login when the pairs feature is not used."""
    client = appliance_client(pair.primary)
    client.break_relationship()
    client.establish_relationship(backup_host=spare["address"], backup_port=sim.port,
                                  reverse_host=pair.primary.management_host, reverse_port=sim.port)
    sim.wait_for(lambda: sim.state(spare["address"])["role"] == "backup")


def post_step(client, case, data, status=302):
    response = client.post(f"/appliances/rma/{case.pk}/step/", data)
    assert response.status_code == status, response.content.decode()[:3000]
    return response


def test_full_case_through_the_ui(replacement_world, login):
    sim, org, pair, spare, admin = replacement_world
    defective = pair.backup
    old_serial, old_guid = defective.serial_number, defective.appliance_guid
    ui = login(admin)

    response = ui.post("/appliances/rma/add/", {"appliance": defective.pk, "reason": "Disk failure", "vendor_case_number": "BT-123"})
    assert response.status_code == 302
    case = RmaCase.objects.get(appliance=defective)
    assert case.pair == pair and case.status == RmaStatus.OPEN and case.defective_serial == old_serial
    assert [row["pair"] for row in pairs_without_failover_for_rma(admin, org)] == [pair]
    page = ui.get(case.get_absolute_url()).content.decode()
    assert "Next action" in page and "default administrator login" in page

    # Out of order: shipping before anything else, restore before registration; the page says why.
    refused = post_step(ui, case, {"step": "returned", "tracking_number": "1Z999"}, status=400).content.decode()
    assert "must be done first" in refused and "Support notified" in refused

    post_step(ui, case, {"step": "received", "replacement_model": "B400", "replacement_serial": spare["serial"],
                         "racked_and_connected": "on", "first_login_done": "on", "default_password_changed": "on",
                         "attachment": SimpleUploadedFile("label.png", PNG_BYTES, content_type="image/png")})
    post_step(ui, case, network_payload(sim, spare))
    defective.refresh_from_db()
    # The inventory slot now is the replacement: same row (same pair), new hardware identity.
    assert defective.appliance_guid == spare["guid"] and defective.serial_number == spare["serial"]
    assert defective.management_host == spare["address"] and defective.client_secret == spare["client_secret"]
    history = {r.event: r.serial_number for r in ApplianceHardwareRecord.objects.filter(appliance=defective)}
    assert history == {HardwareEvent.REMOVED: old_serial, HardwareEvent.INSTALLED: spare["serial"]}
    assert old_guid != defective.appliance_guid

    # The replacement's probe turns healthy in the portal's probe loop.
    from failover.services.probes import probe_batch_run

    probe_batch_run(appliance_ids=[defective.pk])
    defective.refresh_from_db()
    assert defective.status_reachable and defective.status_healthy

    post_step(ui, case, {"step": "certificates", "method": "manual", "parity_verified": "on"})
    refused = post_step(ui, case, {"step": "failover", "restore_path": "synchronous"}, status=400).content.decode()
    assert "Registered with the vendor" in refused and "must be done first" in refused

    post_step(ui, case, {"step": "registered", "status_details_sent": "on"})
    case.refresh_from_db()
    assert case.status == RmaStatus.WAITING_VENDOR
    post_step(ui, case, {"step": "registered", "status_details_sent": "on", "package_received": "on"})

    good = backup_download(actor=admin, appliance=pair.primary)
    async_step = {"step": "failover", "restore_path": "asynchronous", "restore_backup": good.pk, "backup_restored": "on"}
    post_step(ui, case, async_step)
    # Nothing established yet (the probe says so): the chosen path starts as failover's pair upgrade runbook.
    failover_step = case.steps.get(key="failover")
    assert failover_step.state == RmaStepState.IN_PROGRESS and failover_step.details["runbook_operation"]
    # The admin does it by hand instead; recording the step again sees failover restored.
    reestablish_by_hand(sim, pair, spare)
    post_step(ui, case, async_step)
    case.refresh_from_db()
    assert case.restore_backup == good and case.status == RmaStatus.WAITING_US
    assert pairs_without_failover_for_rma(admin, org) == []
    assert sim.state(spare["address"])["role"] == "backup" and sim.state(pair.primary.management_host)["role"] == "primary"

    post_step(ui, case, {"step": "support_notified", "support_notified": "on", "return_label_received": "on"})
    refused = post_step(ui, case, {"step": "returned", "tracking_number": "1Z999"}, status=400).content.decode()
    assert "No shipping before the reset" in refused
    post_step(ui, case, {"step": "returned", "factory_reset": "on", "shut_down": "on", "tracking_number": "1Z999"})
    case.refresh_from_db()
    assert case.status == RmaStatus.CLOSED and case.closed_at and case.return_tracking_number == "1Z999"
    steps = list(case.steps.order_by("position"))
    assert all(s.state == RmaStepState.DONE and s.done_by == admin and s.done_at for s in steps)
    attachment = RmaAttachment.objects.get(case=case)
    download = ui.get(f"/appliances/rma/attachments/{attachment.pk}/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == PNG_BYTES
    assert download["Content-Type"] == "image/png"
    # registered twice (waiting, then done), failover twice (runbook started, then restored)
    assert AuditEvent.objects.filter(organization=org, verb="rma step").count() == 9
    listing = ui.get("/appliances/rma/").content.decode()
    assert "Closed" in listing and "BT-123" in listing


def test_full_case_through_the_api(replacement_world, api_as):
    sim, org, pair, spare, admin = replacement_world
    api = api_as(admin)
    created = api.post("/api/v1/rma-cases/", {"appliance": pair.backup.pk, "reason": "PSU", "vendor_case_number": "BT-9"}, format="json")
    assert created.status_code == 201, created.content
    url = f"/api/v1/rma-cases/{created.json()['id']}/record-step/"
    assert created.json()["next_step"] == "received"

    out_of_order = api.post(url, {"step": "failover", "restore_path": "synchronous"}, format="json")
    assert out_of_order.status_code == 400
    assert "must be done first" in str(out_of_order.json())

    record = recorder(api, url)
    record({"step": "received", "replacement_model": "B400", "replacement_serial": spare["serial"],
            "first_login_done": True, "default_password_changed": True})
    record(network_payload(sim, spare))
    record({"step": "certificates", "parity_verified": True})
    record({"step": "registered", "status_details_sent": True, "package_received": True})
    # The primary still holds the relationship with the dead box: the admin breaks it on the primary; the
    # portal then re-establishes the pair through the pairs feature's establish operation.
    appliance_client(pair.primary).break_relationship()
    body = record({"step": "failover", "restore_path": "original_package"})
    step = next(s for s in body["steps"] if s["key"] == "failover")
    assert step["state"] == "in_progress", step
    from failover.tasks import run_operation

    run_operation(step["details"]["establish_operation"])
    sim.wait_for(lambda: sim.state(spare["address"])["role"] == "backup")
    body = record({"step": "failover", "restore_path": "original_package"})
    assert body["next_step"] == "support_notified"
    record({"step": "support_notified", "support_notified": True, "return_label_received": True})
    body = record({"step": "returned", "factory_reset": True, "shut_down": True, "tracking_number": "TRK-1"})
    assert body["status"] == "closed"
    assert {h["event"] for h in body["hardware_history"]} == {"removed", "installed"}
    assert {h["serial_number"] for h in body["hardware_history"]} == {pair.backup.serial_number, spare["serial"]}


def test_network_step_refuses_an_unreachable_replacement_and_changes_nothing(replacement_world, login):
    sim, org, pair, spare, admin = replacement_world
    case = RmaCaseFactory(appliance=pair.backup, pair=pair, organization=org)
    ui = login(admin)
    post_step(ui, case, {"step": "received", "replacement_model": "B400", "replacement_serial": "X",
                         "first_login_done": "on", "default_password_changed": "on"})
    sim.set_fault(spare["address"], "down")
    response = post_step(ui, case, network_payload(sim, spare), status=400)
    assert "probe of the replacement failed" in response.content.decode()
    pair.backup.refresh_from_db()
    assert pair.backup.management_host != spare["address"]
    assert not ApplianceHardwareRecord.objects.exists()


def test_received_step_needs_the_default_password_changed(org_a, make_member, login):
    admin = make_member(org_a, Role.ADMIN)
    case = RmaCaseFactory(appliance=ApplianceFactory(organization=org_a))
    response = post_step(login(admin), case, {"step": "received", "replacement_model": "B400", "replacement_serial": "S1",
                                              "first_login_done": "on"}, status=400)
    assert "default administrator login" in response.content.decode()
    assert case.steps.get(key="received").state == RmaStepState.PENDING


def test_attachments_only_png_jpeg_pdf(org_a, make_member, login):
    admin = make_member(org_a, Role.ADMIN)
    case = RmaCaseFactory(appliance=ApplianceFactory(organization=org_a))
    fake = SimpleUploadedFile("label.png", b"<script>alert(1)</script>", content_type="image/png")
    response = post_step(login(admin), case, {"step": "received", "replacement_model": "B", "replacement_serial": "S",
                                              "first_login_done": "on", "default_password_changed": "on",
                                              "attachment": fake}, status=400)
    assert "PNG or JPEG" in response.content.decode()
    assert not RmaAttachment.objects.exists()
    assert case.steps.get(key="received").state == RmaStepState.PENDING  # all or nothing


def test_viewers_cannot_open_or_record_and_network_step_needs_admin(org_a, make_member, login, api_as):
    viewer, operator = make_member(org_a, Role.VIEWER), make_member(org_a, Role.OPERATOR)
    appliance = ApplianceFactory(organization=org_a)
    assert login(viewer).post("/appliances/rma/add/", {"appliance": appliance.pk, "reason": "x"}).status_code == 400
    assert api_as(viewer).post("/api/v1/rma-cases/", {"appliance": appliance.pk, "reason": "x"}, format="json").status_code == 400
    assert not RmaCase.objects.exists()
    case = RmaCaseFactory(appliance=appliance)
    assert api_as(viewer).post(f"/api/v1/rma-cases/{case.pk}/record-step/", {"step": "received"}, format="json").status_code == 403
    api = api_as(operator)
    ok = api.post(f"/api/v1/rma-cases/{case.pk}/record-step/", {"step": "received", "replacement_model": "B",
                                                                "replacement_serial": "S", "first_login_done": True,
                                                                "default_password_changed": True}, format="json")
    assert ok.status_code == 200
    network = api.post(f"/api/v1/rma-cases/{case.pk}/record-step/", {"step": "network", "management_host": "127.9.9.9"}, format="json")
    assert network.status_code == 403


def test_one_open_case_per_appliance(org_a, make_member, api_as):
    admin = make_member(org_a, Role.ADMIN)
    appliance = ApplianceFactory(organization=org_a)
    api = api_as(admin)
    assert api.post("/api/v1/rma-cases/", {"appliance": appliance.pk, "reason": "a"}, format="json").status_code == 201
    second = api.post("/api/v1/rma-cases/", {"appliance": appliance.pk, "reason": "b"}, format="json")
    assert second.status_code == 400 and "already has an open RMA case" in str(second.json())


def test_other_organisations_cases_and_attachments_are_404(org_a, org_b, make_member, login, api_as):
    from tests.factories import RmaAttachmentFactory

    attachment = RmaAttachmentFactory(case=RmaCaseFactory(appliance=ApplianceFactory(organization=org_a)))
    case = attachment.case
    bravo = make_member(org_b, Role.ADMIN)
    ui = login(bravo)
    assert ui.get(f"/appliances/rma/{case.pk}/").status_code == 404
    assert ui.post(f"/appliances/rma/{case.pk}/step/", {"step": "received"}).status_code == 404
    assert ui.get(f"/appliances/rma/attachments/{attachment.pk}/").status_code == 404
    assert api_as(bravo).get(f"/api/v1/rma-cases/{case.pk}/").status_code == 404
    assert api_as(bravo).get(f"/api/v1/rma-attachments/{attachment.pk}/download/").status_code == 404
    viewer = make_member(org_a, Role.VIEWER)
    fetched = api_as(viewer).get(f"/api/v1/rma-attachments/{attachment.pk}/download/")
    assert fetched.status_code == 200 and b"".join(fetched.streaming_content).startswith(b"\x89PNG")
    assert pairs_without_failover_for_rma(bravo, None) == []


def test_rma_list_and_api_hold_constant_queries(org_a, make_member, login, api_as):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    admin = make_member(org_a, Role.ADMIN)
    ui, api = login(admin), api_as(admin)

    def counts():
        out = []
        for fetch in (lambda: ui.get("/appliances/rma/?per_page=500"), lambda: api.get("/api/v1/rma-cases/?limit=500")):
            fetch()
            with CaptureQueriesContext(connection) as ctx:
                assert fetch().status_code == 200
            out.append(len(ctx.captured_queries))
        return out

    for _ in range(3):
        RmaCaseFactory(appliance=ApplianceFactory(organization=org_a))
    small = counts()
    for _ in range(12):
        RmaCaseFactory(appliance=ApplianceFactory(organization=org_a))
    assert counts() == small


def test_asynchronous_path_needs_the_primarys_latest_backup(org_a, make_member):
    from django.core.exceptions import ValidationError

    from rma.models import RmaStep
    from rma.services import rma_record_step
    from tests.factories import ConfigurationBackupFactory

    admin = make_member(org_a, Role.ADMIN)
    pair = PairFactory(organization=org_a)
    case = RmaCaseFactory(appliance=pair.backup, pair=pair)
    RmaStep.objects.filter(case=case).exclude(key__in=["failover", "support_notified", "returned"]).update(state="done")
    older = ConfigurationBackupFactory(appliance=pair.primary)
    ConfigurationBackupFactory(appliance=pair.primary)
    own = ConfigurationBackupFactory(appliance=pair.backup)
    for backup, message in ((None, "name it"), (own, "good backup of the pair's primary"), (older, "newer backup")):
        with pytest.raises(ValidationError) as refused:
            rma_record_step(actor=admin, case=case, key="failover",
                            data={"restore_path": "asynchronous", "restore_backup": backup, "backup_restored": True})
        assert message in str(refused.value)


def test_appliance_page_links_the_open_case_and_dashboard_lists_the_pair(org_a, make_member, login):
    admin = make_member(org_a, Role.ADMIN)
    pair = PairFactory(organization=org_a)
    case = RmaCaseFactory(appliance=pair.backup, pair=pair)
    page = login(admin).get(f"/appliances/{pair.backup.pk}/").content.decode()
    assert case.get_absolute_url() in page
    dashboard = login(admin).get("/").content.decode()
    panel = dashboard.split('id="rma-pairs-panel"')[1]
    assert pair.site_hostname in panel and f"#{case.pk}" in panel


def test_restore_failover_runs_the_synchronous_path_as_a_runbook(replacement_world, api_as):
    """The restore-failover step starts failover's pair upgrade runbook (synchronous path, break skipped): the
    replacement's software is verified from its version, then the relationship is established and verified."""
    from failover.models import Operation, OperationStatus, StepStatus
    from failover.services.operations import operation_confirm
    from failover.tasks import run_operation

    sim, org, pair, spare, admin = replacement_world
    api = api_as(admin)
    created = api.post("/api/v1/rma-cases/", {"appliance": pair.backup.pk, "reason": "PSU"}, format="json")
    url = f"/api/v1/rma-cases/{created.json()['id']}/record-step/"

    record = recorder(api, url)
    record({"step": "received", "replacement_model": "B400", "replacement_serial": spare["serial"],
            "first_login_done": True, "default_password_changed": True})
    record(network_payload(sim, spare))
    record({"step": "certificates", "parity_verified": True})
    record({"step": "registered", "status_details_sent": True, "package_received": True})
    appliance_client(pair.primary).break_relationship()
    sim.set_state(spare["address"], version="23.1.0", build="1")  # the spare ships with older software
    body = record({"step": "failover", "restore_path": "synchronous"})
    step = next(s for s in body["steps"] if s["key"] == "failover")
    runbook = Operation.objects.get(pk=step["details"]["runbook_operation"])
    run_operation(runbook.pk)
    runbook.refresh_from_db()
    statuses = {s.name: s.status for s in runbook.steps.all()}
    assert statuses["break_break"] == statuses["sync_start_sync"] == StepStatus.SKIPPED
    # A already runs the pair's software: the admin says so; B (the spare) is waited for until it reports the same.
    assert runbook.steps.get(status=StepStatus.WAITING).name == "upgrade_a"
    operation_confirm(actor=admin, operation=runbook)
    run_operation(runbook.pk)
    waiting = runbook.steps.get(status=StepStatus.WAITING)
    assert waiting.name == "upgrade_b" and "23.1.0 build 1" in waiting.detail
    primary_version = sim.state(pair.primary.management_host)
    sim.set_state(spare["address"], version=primary_version["version"], build=primary_version["build"])
    operation_confirm(actor=admin, operation=runbook)
    run_operation(runbook.pk)
    runbook.refresh_from_db()
    assert runbook.status == OperationStatus.SUCCEEDED, runbook.error
    body = record({"step": "failover", "restore_path": "synchronous"})
    assert body["next_step"] == "support_notified"
