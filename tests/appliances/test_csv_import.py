"""CSV onboarding: per-row errors, nothing half-imported, no 500 on hostile files."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from appliances.csv_io import appliances_import_csv
from appliances.models import Appliance, ApplianceAddress
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
    return client.post(
        "/appliances/import/", {"organization": org.pk, "file": SimpleUploadedFile(name, content, "text/csv")}
    )


def test_valid_file_imports_every_row_with_addresses(org_a, admin, login):
    content = HEADER + row("edge-1", addresses="192.0.2.5/24; shared:192.0.2.10/24") + row("edge-2", host="edge2.example.com")
    response = upload(login(admin), org_a, content.encode())
    assert response.status_code == 302
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
    assert response.status_code == 400
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
    assert response.status_code == 400
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
