"""CSV onboarding: per-row errors, nothing half-imported, no 500 on hostile files."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from appliances.csv_io import appliances_import_csv
from appliances.models import Appliance, ApplianceAddress, ApplianceImport
from appliances.tasks import run_appliance_import
from portal.models import Role
from tests.factories import ApplianceAddressFactory, ApplianceFactory

HEADER = "name,management_host,management_port,appliance_guid,tls_pin,client_id,client_secret,addresses\n"
PIN = "ab" * 32


def row(name, host="127.4.0.1", port="443", guid="", addresses="", client_id="", secret=""):
    return f"{name},{host},{port},{guid},{PIN},{client_id},{secret},{addresses}\n"


@pytest.fixture
def admin(org_a, make_member):
    return make_member(org_a, Role.ADMIN)


def upload(client, org, content: bytes, name="fleet.csv"):
    """Post the file; when it is queued, run the worker's task (called directly) and answer the status page."""
    response = client.post(
        "/appliances/import/", {"organization": org.pk, "file": SimpleUploadedFile(name, content, "text/csv")}
    )
    if response.status_code != 302:
        return response
    job = ApplianceImport.objects.latest("created_at")
    assert response.url == f"/appliances/import/{job.pk}/"
    assert "Checked rows" not in client.get(response.url).content.decode()
    run_appliance_import(job.pk)
    return client.get(response.url)


def test_valid_file_imports_every_row_with_addresses(org_a, admin, login):
    content = HEADER + row("edge-1", addresses="192.0.2.5/24; shared:192.0.2.10/24") + row("edge-2", host="edge2.example.com")
    response = upload(login(admin), org_a, content.encode())
    assert "2 appliance(s) created, 0 updated" in response.content.decode()
    assert sorted(Appliance.objects.filter(organization=org_a).values_list("name", flat=True)) == ["edge-1", "edge-2"]
    shared = ApplianceAddress.objects.get(appliance__name="edge-1", kind="shared")
    assert str(shared) == "192.0.2.10/24" and shared.organization_id == org_a.pk


@pytest.mark.parametrize(
    "content, expected",
    [
        (HEADER + row("a", port="70000"), "Row 2: management_port"),
        (HEADER + row("a", port="https"), "Row 2: management_port"),
        (HEADER + row("a", host="not a host!"), "Row 2: management_host"),
        (HEADER + row("a", addresses="300.1.1.1/24"), "Row 2"),
        (HEADER + row("a", addresses="192.0.2.1/40"), "prefix length"),
        (HEADER + row("a", addresses="192.0.2.1"), "needs a prefix length"),
        (HEADER + row("a", guid="zz"), "32 hexadecimal"),
        (HEADER + row("a", client_id="cid"), "client id and its secret"),
        (HEADER + row("a", guid="a" * 32) + row("b", guid="A" * 32), "Row 3: appliance id"),
        (HEADER + row("a") + row("a"), "Row 3: name"),
        ("name,host\nx,y\n", "misses the column"),
        ("name,management_host,colour\nx,127.0.0.2,red\n", "Unknown column"),
        (HEADER + "a,127.0.0.2,443,,x,y,z,w,extra,extra\n", "more values than columns"),
    ],
)
def test_bad_rows_are_reported_and_nothing_is_written(content, expected, org_a, admin, login):
    good = row("good-one")
    response = upload(login(admin), org_a, (content + good).encode() if content.startswith(HEADER) else content.encode())
    # The file's shape is refused in the form (400); bad rows are reported by the worker's run on the status page.
    assert response.status_code == (400 if expected in ("misses the column", "Unknown column") else 200)
    assert expected in response.content.decode()
    assert "Nothing was imported" in response.content.decode() or "misses" in expected or "Unknown" in expected
    assert not Appliance.objects.filter(organization=org_a).exists()


def test_header_without_rows_is_reported(org_a, admin):
    result = appliances_import_csv(actor=admin, organization=org_a, data=HEADER.encode())
    assert result.errors == ["The file has a header but no appliance rows."]


def test_duplicate_of_existing_appliance_id_rolls_back_the_whole_file(org_a, admin):
    ApplianceFactory(organization=org_a, name="existing", appliance_guid="b" * 32)
    content = HEADER + row("new-1") + row("new-2", guid="b" * 32)
    result = appliances_import_csv(actor=admin, organization=org_a, data=content.encode())
    assert not result.ok
    assert any("appliance id" in e for e in result.errors)
    assert list(Appliance.objects.filter(organization=org_a).values_list("name", flat=True)) == ["existing"]


@pytest.mark.parametrize(
    "content",
    [b"\xff\xfe\x00garbage\x00", b"name,management_host\n\"unterminated,127.0.0.1\n" + b"x" * 10, b"\x00" * 100],
)
def test_binary_or_malformed_files_get_a_message_not_a_500(content, org_a, admin, login):
    response = upload(login(admin), org_a, content)
    # Refused in the form, or (a quote left open swallows the rest of the file into one row) by the worker.
    assert response.status_code == 400 or "Nothing was imported" in response.content.decode()
    assert not Appliance.objects.exists()


def test_oversized_upload_is_refused(org_a, admin, login, settings):
    settings.CSV_IMPORT_MAX_BYTES = 1024
    response = upload(login(admin), org_a, (HEADER + row("x") * 100).encode())
    assert response.status_code == 400
    assert "larger than 1 KiB" in response.content.decode()
    assert not Appliance.objects.exists()


def test_viewer_cannot_import(org_a, make_member, login):
    viewer = make_member(org_a, Role.VIEWER)
    response = upload(login(viewer), org_a, (HEADER + row("x")).encode())
    assert response.status_code == 400  # the organisation is not among the viewer's choices
    assert not ApplianceImport.objects.exists()
    assert not Appliance.objects.exists()


def test_export_never_contains_secrets(org_a, admin, login):
    ApplianceFactory(organization=org_a, name="exported", client_secret="s3cr3t-value")
    exported = login(admin).get("/appliances/export/").content
    assert b"exported" in exported and b"s3cr3t-value" not in exported


def test_export_round_trips_through_import(org_a, org_b, admin, login, make_member):
    source = ApplianceFactory(organization=org_a, name="exported", client_id="", client_secret="")
    ApplianceAddressFactory(appliance=source, address="192.0.2.77", kind="shared", enabled=False)
    ApplianceAddressFactory(appliance=source, address="192.0.2.7", prefix_length=25)
    exported = login(admin).get("/appliances/export/").content
    assert b"shared:192.0.2.77/24:disabled; 192.0.2.7/25" in exported
    result = appliances_import_csv(actor=make_member(org_b, Role.ADMIN), organization=org_b, data=exported)
    assert result.ok, result.errors
    copy = Appliance.objects.get(organization=org_b, name="exported")
    assert (copy.management_host, copy.appliance_guid, copy.tls_pin) == (
        source.management_host, source.appliance_guid, source.tls_pin
    )
    assert sorted((str(a), a.kind, a.enabled) for a in copy.addresses.all()) == [
        ("192.0.2.7/25", "unique", True), ("192.0.2.77/24", "shared", False)
    ]


def test_every_failing_field_of_a_row_is_reported(org_a, admin):
    content = HEADER + row("a", host="not a host!", port="70000", guid="zz", addresses="192.0.2.1; 192.0.2.2")
    result = appliances_import_csv(actor=admin, organization=org_a, data=content.encode())
    reported = "\n".join(result.errors)
    for field in ("management_host", "management_port", "appliance_guid", "“192.0.2.1” needs", "“192.0.2.2” needs"):
        assert field in reported, reported
    assert all(error.startswith("Row 2: ") for error in result.errors)


def test_an_unchanged_export_re_imports_as_updates_keeping_secrets(org_a, admin, login):
    source = ApplianceFactory(organization=org_a, name="kept", client_id="portal", client_secret="stored-secret")
    ApplianceAddressFactory(appliance=source, address="192.0.2.7", prefix_length=25)
    client = login(admin)
    exported = client.get("/appliances/export/").content
    page = upload(client, org_a, exported).content.decode()
    assert "0 appliance(s) created, 1 updated" in page
    source.refresh_from_db()
    assert source.client_secret == "stored-secret"
    assert [str(a) for a in source.addresses.all()] == ["192.0.2.7/25"]
    # A changed file updates by name, addresses included.
    changed = exported.replace(b"192.0.2.7/25", b"192.0.2.8/24").replace(b"B300", b"B400")
    assert "1 updated" in upload(client, org_a, changed).content.decode()
    source.refresh_from_db()
    assert source.model == "B400" and [str(a) for a in source.addresses.all()] == ["192.0.2.8/24"]


def test_the_row_cap_is_checked_before_anything_is_queued(org_a, admin, login, settings):
    settings.CSV_IMPORT_MAX_ROWS = 3
    response = upload(login(admin), org_a, (HEADER + "".join(row(f"r{i}", host=f"127.4.0.{i + 1}") for i in range(4))).encode())
    assert response.status_code == 400
    assert "more than 3 rows" in response.content.decode()
    assert not ApplianceImport.objects.exists()


def test_the_import_runs_on_a_worker_and_shows_its_progress(org_a, admin, login, django_capture_on_commit_callbacks):
    client = login(admin)
    content = HEADER + "".join(row(f"bulk-{i}", host=f"127.4.{i // 200}.{i % 200 + 1}") for i in range(120))
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post("/appliances/import/", {"organization": org_a.pk,
                                                       "file": SimpleUploadedFile("f.csv", content.encode())})
    assert response.status_code == 302 and len(callbacks) == 1  # queued on commit, nothing written yet
    assert not Appliance.objects.exists()
    page = client.get(response.url).content.decode()
    assert "0 of 120 rows checked" in page and 'http-equiv="refresh"' in page
    seen = []
    job = ApplianceImport.objects.get()
    appliances_import_csv(actor=admin, organization=org_a, data=content.encode(), progress=seen.append)
    assert seen[0] == 50 and seen[-1] == 120  # progress as rows are checked
    Appliance.objects.all().delete()
    run_appliance_import(job.pk)
    job.refresh_from_db()
    assert (job.status, job.processed_rows, job.created_count, job.content) == ("succeeded", 120, 120, "")
    assert 'http-equiv="refresh"' not in client.get(response.url).content.decode()
    assert run_appliance_import(job.pk) == "succeeded" and Appliance.objects.count() == 120  # redelivery: no rerun


@pytest.mark.parametrize("cell", ["=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"])
def test_export_defuses_formulas_and_the_import_restores_them(cell, org_a, org_b, admin, login, make_member):
    ApplianceFactory(organization=org_a, name="formula", model=cell, client_id="", client_secret="")
    exported = login(admin).get("/appliances/export/").content.decode()
    (record,) = csv.DictReader(io.StringIO(exported, newline=""))
    assert record["model"] == "'" + cell
    assert not any(value.startswith(("=", "+", "-", "@", "\t", "\r")) for value in record.values())
    result = appliances_import_csv(actor=make_member(org_b, Role.ADMIN), organization=org_b, data=exported.encode())
    assert result.ok, result.errors
    assert Appliance.objects.get(organization=org_b, name="formula").model == cell.strip()


def test_an_import_whose_worker_died_runs_again_and_a_live_one_is_left_alone(org_a, admin, login):
    from datetime import timedelta

    from django.utils import timezone

    client = login(admin)
    response = client.post("/appliances/import/", {"organization": org_a.pk,
                                                   "file": SimpleUploadedFile("f.csv", (HEADER + row("x")).encode())})
    job = ApplianceImport.objects.get()
    ApplianceImport.objects.filter(pk=job.pk).update(status="running", updated_at=timezone.now())
    assert run_appliance_import(job.pk) == "running"  # a duplicate delivery while it runs: nothing happens
    assert not Appliance.objects.exists()
    ApplianceImport.objects.filter(pk=job.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    assert run_appliance_import(job.pk) == "succeeded"  # its worker died: run again
    assert "1 appliance(s) created" in client.get(response.url).content.decode()
