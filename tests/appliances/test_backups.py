"""Configuration backups against the simulator: download, encryption at rest, failures kept apart from good
backups, retention, admin-only audited download, REST, and tenancy."""

import hashlib
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from appliances.alerts import ApplianceAlertKind as AlertKind
from appliances.backups import NotABackup, backup_download, backup_prune, backup_refuse_message, retained_ids
from appliances.models import BackupFailure, BackupPolicy, BackupStatus, ConfigurationBackup
from appliances.selectors import backups_due
from appliances.tasks import download_backup, prune_backups
from portal.models import Alert, AuditEvent, Role
from portal.permissions import SYSTEM
from tests.factories import ApplianceFactory, BackupPolicyFactory, ConfigurationBackupFactory, PairFactory

pytestmark = pytest.mark.django_db

PRIMARY = "org-001-pair01-a"


def raw_content(backup_id: int) -> bytes:
    with connection.cursor() as cursor:
        cursor.execute("SELECT content FROM appliances_configurationbackup WHERE id = %s", [backup_id])
        return bytes(cursor.fetchone()[0])


@pytest.mark.parametrize("profile", ["vendor", "extended"])
def test_download_keeps_the_appliance_file_opaque_and_encrypted_with_its_metadata(sim_inventory, profile):
    sim, org, appliances, admin = sim_inventory
    appliance = appliances[PRIMARY]
    sim.set_profile(profile, [appliance.management_host])
    backup = backup_download(actor=admin, appliance=appliance)
    assert backup.status == BackupStatus.SUCCEEDED, backup.failure_reason
    plain = bytes(ConfigurationBackup.objects.get(pk=backup.pk).content)
    # Byte for byte what the appliance serves, whatever its layout.
    status, headers, served = sim_client(sim, PRIMARY).request("GET", "/api/backup", headers=sim_auth(sim, PRIMARY))
    assert plain == served
    assert backup.size_bytes == len(plain) > 16 * 1024
    assert backup.sha256 == hashlib.sha256(plain).hexdigest()
    assert f'filename="{backup.filename}"' in headers["content-disposition"] and backup.filename.endswith(".nsb")
    assert backup.content_type == "application/octet-stream" and backup.with_logged_data
    assert backup.source_appliance_guid == appliance.appliance_guid
    # At rest: Fernet ciphertext, nothing of the file readable in the column.
    stored = raw_content(backup.pk)
    assert plain[:32] not in stored and stored.startswith(b"gAAAAA")
    assert AuditEvent.objects.filter(organization=org, verb="backup", summary__contains="downloaded").exists()


def sim_client(sim, name):
    from simulator.testing import ApplianceClient

    return ApplianceClient(sim, name)


def sim_auth(sim, name):
    return {"Authorization": f"Bearer {sim_client(sim, name).token()}"}


def test_a_protected_backup_is_downloaded_with_the_stored_password_only(sim_inventory):
    sim, org, appliances, admin = sim_inventory
    appliance = appliances[PRIMARY]
    sim.set_state(appliance.management_host, profile="vendor", backup_password="vendor-s3cret")
    failed = backup_download(actor=admin, appliance=appliance)
    assert failed.failure_kind == BackupFailure.PASSWORD and "backup password" in failed.failure_reason
    appliance.backup_password = "vendor-s3cret"
    appliance.save()
    good = backup_download(actor=admin, appliance=appliance)
    assert good.status == BackupStatus.SUCCEEDED, good.failure_reason


def test_without_logged_data_when_the_policy_says_so(sim_inventory):
    sim, org, appliances, admin = sim_inventory
    appliance = appliances[PRIMARY]
    sim.set_profile("vendor", [appliance.management_host])
    full = backup_download(actor=admin, appliance=appliance)
    BackupPolicy.objects.create(organization=org, include_logged_data=False)
    lean = backup_download(actor=admin, appliance=appliance)
    assert lean.status == BackupStatus.SUCCEEDED and not lean.with_logged_data
    assert lean.size_bytes < full.size_bytes and lean.sha256 != full.sha256


def test_missing_backup_permission_is_recorded_alerted_and_keeps_the_good_backup(sim_inventory):
    sim, org, appliances, admin = sim_inventory
    appliance = appliances[PRIMARY]
    good = backup_download(actor=admin, appliance=appliance)
    read_only = sim.appliance(PRIMARY)["extra_accounts"][0]
    appliance.client_id, appliance.client_secret = read_only["client_id"], read_only["client_secret"]
    appliance.save()

    failed = backup_download(actor=admin, appliance=appliance)

    assert failed.status == BackupStatus.FAILED and failed.failure_kind == BackupFailure.NO_PERMISSION
    assert "backup permission" in failed.failure_reason
    assert failed.content is None
    alert = Alert.objects.get(organization=org, kind=AlertKind.BACKUP_FAILED, appliance=appliance)
    assert "may not download backups" in alert.subject
    good.refresh_from_db()
    assert good.status == BackupStatus.SUCCEEDED and hashlib.sha256(bytes(good.content)).hexdigest() == good.sha256
    assert ConfigurationBackup.objects.good().filter(appliance=appliance).count() == 1


def test_unreachable_appliance_is_a_recorded_failure(sim_inventory):
    sim, org, appliances, admin = sim_inventory
    appliance = appliances[PRIMARY]
    good = ConfigurationBackupFactory(appliance=appliance, started_at=timezone.now() - timedelta(days=1))
    sim.set_fault(appliance.management_host, "down")
    failed = backup_download(actor=SYSTEM, appliance=appliance, trigger="scheduled")
    assert failed.failure_kind == BackupFailure.UNREACHABLE
    assert "could not be reached" in failed.failure_reason
    assert Alert.objects.filter(kind=AlertKind.BACKUP_FAILED, appliance=appliance).count() == 1
    assert ConfigurationBackup.objects.good().get(appliance=appliance) == good


@pytest.mark.parametrize("body", [b"", b"<html>Invalid credentials</html>", b"\n  <!DOCTYPE html><p>login",
                                  b'<?xml version="1.0"?><error>No</error>', b"<error>Invalid credentials</error>"])
def test_a_body_that_certainly_is_not_a_backup_is_refused(body):
    with pytest.raises(NotABackup):
        backup_refuse_message(body)


@pytest.mark.parametrize("body", [b"NSB1\xff\xff\xff\xffgarbage", b"PK\x03\x04zip", b"\x00\x01opaque", b"anything"])
def test_any_other_body_is_kept_as_the_appliance_gave_it(body):
    backup_refuse_message(body)


def test_task_downloads_by_id_and_scheduled_run_picks_due_primaries(sim_inventory):
    sim, org, appliances, admin = sim_inventory
    primary, backup = appliances[PRIMARY], appliances["org-001-pair01-b"]
    PairFactory(organization=org, primary=primary, backup=backup, site_hostname="pair01.sim.test")
    assert backups_due() == [primary.pk]  # only the normal primary of a pair, by default daily
    assert download_backup(primary.pk) == BackupStatus.SUCCEEDED
    assert backups_due() == []  # a good backup within the interval
    BackupPolicy.objects.create(organization=org, interval_hours=1)
    ConfigurationBackup.objects.update(started_at=timezone.now() - timedelta(hours=2))
    assert backups_due() == [primary.pk]
    BackupPolicy.objects.filter(organization=org).update(scheduled=False)
    assert backups_due() == []


def test_retention_keeps_last_n_and_one_per_week():
    now = timezone.now()
    rows = [(i, now - timedelta(days=i)) for i in range(1, 60)]  # one backup a day for 59 days
    kept = retained_ids(rows, keep_last=3, keep_weekly_weeks=4, now=now)
    assert {1, 2, 3} <= kept
    weeks = {rows[i - 1][1].isocalendar()[:2] for i in kept}
    assert len(kept - {1, 2, 3}) <= 5 and len(weeks) >= 4
    assert all(now - rows[i - 1][1] <= timedelta(weeks=4) for i in kept)


def test_prune_deletes_by_policy_and_never_the_latest_good_backup(org_a):
    BackupPolicyFactory(organization=org_a, keep_last=2, keep_weekly_weeks=2)
    appliance = ApplianceFactory(organization=org_a)
    now = timezone.now()
    backups = [ConfigurationBackupFactory(appliance=appliance, started_at=now - timedelta(days=d)) for d in range(0, 40)]
    old_failure = ConfigurationBackupFactory(
        appliance=appliance, status=BackupStatus.FAILED, content=None, failure_kind="unreachable",
        started_at=now - timedelta(days=60),
    )
    deleted = backup_prune(organization=org_a, now=now)
    left = set(ConfigurationBackup.objects.filter(appliance=appliance).values_list("pk", flat=True))
    assert backups[0].pk in left and backups[1].pk in left
    assert backups[39].pk not in left and old_failure.pk not in left
    assert 2 < len(left) <= 5
    assert deleted == 41 - len(left)
    # Only failures after the last good one: pruning still keeps a good backup.
    ConfigurationBackup.objects.filter(pk__in=[b.pk for b in backups[:2]]).update(started_at=now - timedelta(days=300))
    backup_prune(organization=org_a, now=now)
    assert ConfigurationBackup.objects.good().filter(appliance=appliance).exists()
    assert prune_backups() == 0  # idempotent


@pytest.fixture
def stored_backup(org_a):
    return ConfigurationBackupFactory(appliance=ApplianceFactory(organization=org_a, name="edge-1"))


@pytest.mark.parametrize("role, expected", [(Role.VIEWER, 403), (Role.OPERATOR, 403), (Role.ADMIN, 200)])
def test_download_is_for_organisation_admins_only_and_audited(role, expected, stored_backup, org_a, make_member, login, api_as):
    user = make_member(org_a, role)
    for response in (
        login(user).get(f"/appliances/backups/{stored_backup.pk}/download/"),
        api_as(user).get(f"/api/v1/backups/{stored_backup.pk}/download/"),
    ):
        assert response.status_code == expected
        if expected == 200:
            assert response.content == bytes(ConfigurationBackup.objects.get(pk=stored_backup.pk).content)
            assert response["Content-Type"] == "application/octet-stream"
    downloads = AuditEvent.objects.filter(organization=org_a, verb="download")
    assert downloads.count() == (2 if expected == 200 else 0)


def test_other_organisations_backups_are_invisible(stored_backup, org_b, make_member, login, api_as):
    bravo_admin = make_member(org_b, Role.ADMIN)
    assert login(bravo_admin).get(f"/appliances/backups/{stored_backup.pk}/download/").status_code == 404
    api = api_as(bravo_admin)
    assert api.get(f"/api/v1/backups/{stored_backup.pk}/download/").status_code == 404
    assert api.get("/api/v1/backups/").json()["count"] == 0
    assert api.post(f"/api/v1/appliance-backups/{stored_backup.appliance_id}/run/").status_code == 404


def test_back_up_now_needs_operator(stored_backup, org_a, make_member, login, api_as):
    viewer, operator = make_member(org_a, Role.VIEWER), make_member(org_a, Role.OPERATOR)
    url = f"/appliances/{stored_backup.appliance_id}/backup/"
    assert login(viewer).post(url).status_code == 403
    assert api_as(operator).post(f"/api/v1/appliance-backups/{stored_backup.appliance_id}/run/").status_code == 202
    assert AuditEvent.objects.filter(organization=org_a, verb="backup requested").count() == 1


def test_listed_per_appliance_and_over_rest_with_constant_queries(org_a, make_member, login, api_as):
    admin = make_member(org_a, Role.ADMIN)
    appliance = ApplianceFactory(organization=org_a, name="edge-9")
    page = login(admin)
    api = api_as(admin)

    def counts():
        out = []
        for fetch in (lambda: page.get("/appliances/backups/?per_page=500"), lambda: api.get("/api/v1/backups/?limit=500")):
            fetch()
            with CaptureQueriesContext(connection) as ctx:
                assert fetch().status_code == 200
            out.append(len(ctx.captured_queries))
        return out

    for _ in range(5):
        ConfigurationBackupFactory(appliance=appliance)
    small = counts()
    for _ in range(25):
        ConfigurationBackupFactory(appliance=ApplianceFactory(organization=org_a))
    assert counts() == small
    detail = page.get(f"/appliances/{appliance.pk}/")
    assert detail.status_code == 200 and b"appliance-backups" in detail.content and b"download" in detail.content
    listed = api.get(f"/api/v1/backups/?appliance={appliance.pk}").json()
    assert listed["count"] == 5 and "content" not in listed["results"][0]


def test_policy_is_edited_by_admins_in_the_ui_and_over_rest(org_a, make_member, login, api_as):
    admin, operator = make_member(org_a, Role.ADMIN), make_member(org_a, Role.OPERATOR)
    response = login(admin).post("/appliances/backups/policy/add/", {
        "organization": org_a.pk, "scheduled": "on", "interval_hours": 12, "keep_last": 3, "keep_weekly_weeks": 4,
        "max_backup_mb": 32,
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    policy = BackupPolicy.objects.get(organization=org_a)
    assert (policy.interval_hours, policy.keep_last, policy.keep_weekly_weeks) == (12, 3, 4)
    url = f"/api/v1/backup-policies/{policy.pk}/"
    assert api_as(operator).patch(url, {"keep_last": 9}, format="json").status_code == 403
    bad = api_as(admin).patch(url, {"keep_last": 0}, format="json")
    assert bad.status_code == 400 and "keep_last" in bad.json()
    assert api_as(admin).patch(url, {"keep_last": 9}, format="json").status_code == 200
    policy.refresh_from_db()
    assert policy.keep_last == 9
    assert AuditEvent.objects.filter(organization=org_a, object_type="appliances.backuppolicy").count() == 2


@pytest.fixture
def hostile_appliance(org_a, tmp_path):
    """A real HTTPS server on loopback that answers /api/backup with whatever a test scripts (the simulator only
    serves genuine backups there)."""
    import threading

    from tests.appliances.drivers.driver_testkit import FakeAppliance, make_pki, server_context, token_reply

    pki = make_pki()
    server = FakeAppliance(server_context(pki, tmp_path))
    server.routes["/oauth2/token"] = lambda seen: token_reply()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    appliance = ApplianceFactory(organization=org_a, management_host="127.0.0.1", management_port=server.port,
                                 ca_bundle=pki.ca_pem, tls_pin="", appliance_guid="")
    yield server, appliance
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("body, content_type", [
    (b"<!DOCTYPE html><html><body>Sign in</body></html>", "application/octet-stream"),
    (b'<?xml version="1.0"?><error>Invalid credentials</error>', "application/octet-stream"),
    (b"", "application/octet-stream"),
    (b"<html><body>Invalid credentials</body></html>", "text/html"),
])
def test_a_body_that_is_not_a_backup_is_recorded_and_the_good_backup_stays(body, content_type, hostile_appliance):
    from tests.appliances.drivers.driver_testkit import Reply

    server, appliance = hostile_appliance
    good = ConfigurationBackupFactory(appliance=appliance, started_at=timezone.now() - timedelta(days=1))
    server.routes["/api/backup"] = lambda seen: Reply(200, body, content_type)
    failed = backup_download(actor=SYSTEM, appliance=appliance)
    assert failed.status == BackupStatus.FAILED and failed.failure_kind == BackupFailure.NOT_A_BACKUP
    assert "not a" in failed.failure_reason and failed.content is None
    assert Alert.objects.filter(kind=AlertKind.BACKUP_FAILED, appliance=appliance).exists()
    assert list(ConfigurationBackup.objects.good().filter(appliance=appliance)) == [good]
    assert bytes(ConfigurationBackup.objects.get(pk=good.pk).content) == bytes(good.content)
