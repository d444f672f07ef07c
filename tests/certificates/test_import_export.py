"""Import and export: round trips for PKCS#12 and PEM, and every bad input refused with a clear message
and nothing written (no certificate row, no audit event)."""

import base64

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from certificates.crypto import generate
from certificates.models import Certificate
from certificates.services import certificate_export, certificate_import
from portal.models import AuditEvent, Role
from tests.factories import ApplianceFactory

from .conftest import PASSPHRASE, key_der

pytestmark = pytest.mark.django_db


@pytest.fixture
def appliances(org_a):
    return ApplianceFactory(organization=org_a, name="primary-1"), ApplianceFactory(organization=org_a, name="backup-1")


def _round_trip(admin, appliances, first_file, export_format, pki):
    first, second = appliances
    imported = certificate_import(actor=admin, appliance=first, data=first_file, passphrase=PASSPHRASE)
    exported = certificate_export(actor=admin, certificate=imported, export_format=export_format,
                                  include_key=True, passphrase="another passphrase 42")
    again = certificate_import(actor=admin, appliance=second, data=exported.data, passphrase="another passphrase 42")
    return imported, exported, again


@pytest.mark.parametrize("export_format", ["pkcs12", "pem"])
@pytest.mark.parametrize("source", ["p12_file", "pem_file"])
def test_round_trip_keeps_fingerprint_key_and_chain(request, source, export_format, appliance_admin, appliances, pki):
    imported, exported, again = _round_trip(appliance_admin, appliances, request.getfixturevalue(source),
                                            export_format, pki)
    leaf = pki["leaf"]
    assert imported.fingerprint_sha256 == again.fingerprint_sha256 == leaf.certificate.fingerprint(hashes.SHA256()).hex()
    reloaded = serialization.load_pem_private_key(again.private_key.encode(), None)
    assert key_der(reloaded) == key_der(leaf.key)
    assert [c.subject for c in again.chain] == [pki["issuing"].certificate.subject, pki["root"].certificate.subject]
    assert exported.filename.endswith(".p12" if export_format == "pkcs12" else ".pem")


def test_pkcs12_export_uses_modern_encryption(appliance_admin, appliances, p12_file):
    imported = certificate_import(actor=appliance_admin, appliance=appliances[0], data=p12_file, passphrase=PASSPHRASE)
    exported = certificate_export(actor=appliance_admin, certificate=imported, include_key=True,
                                  passphrase="another passphrase 42")
    # PBES2 with AES-256-CBC appear as their OIDs in the file; legacy 3DES/RC2 PKCS#12 would carry neither.
    assert bytes.fromhex("2a864886f70d01050d") in exported.data  # 1.2.840.113549.1.5.13 PBES2
    assert bytes.fromhex("60864801650304012a") in exported.data  # 2.16.840.1.101.3.4.1.42 aes256-CBC
    with pytest.raises(ValueError):
        pkcs12.load_key_and_certificates(exported.data, b"wrong")


def test_export_without_key_needs_no_passphrase_and_carries_no_key(appliance_admin, appliances, p12_file):
    imported = certificate_import(actor=appliance_admin, appliance=appliances[0], data=p12_file, passphrase=PASSPHRASE)
    exported = certificate_export(actor=appliance_admin, certificate=imported, export_format="pem")
    assert b"PRIVATE KEY" not in exported.data
    assert exported.data.count(b"BEGIN CERTIFICATE") == 3


def test_export_with_key_requires_a_passphrase(appliance_admin, appliances, p12_file):
    imported = certificate_import(actor=appliance_admin, appliance=appliances[0], data=p12_file, passphrase=PASSPHRASE)
    with pytest.raises(ValidationError) as caught:
        certificate_export(actor=appliance_admin, certificate=imported, include_key=True, passphrase="")
    assert "passphrase" in caught.value.message_dict


def test_reimport_of_the_same_certificate_updates_instead_of_duplicating(appliance_admin, appliances, p12_file, pki):
    appliance = appliances[0]
    certificate_import(actor=appliance_admin, appliance=appliance, data=pki["leaf"].cert_pem)
    assert not Certificate.objects.get().portal_has_key
    certificate_import(actor=appliance_admin, appliance=appliance, data=p12_file, passphrase=PASSPHRASE)
    assert Certificate.objects.count() == 1
    assert Certificate.objects.get().portal_has_key


# --- bad input ------------------------------------------------------------------------------------------


def _csr_pem() -> bytes:
    key = generate.new_key()
    csr = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "csr.example.com")])
    ).sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM)


def _mismatched_pem(pki) -> bytes:
    other = generate.new_key()
    return pki["leaf"].cert_pem + other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


BAD_INPUTS = {
    # name: (file builder, passphrase, field, words the message must contain)
    "wrong passphrase (PKCS#12)": (lambda f, pki: f["p12"], "not the passphrase", "passphrase", "passphrase is wrong"),
    "wrong passphrase (PEM key)": (lambda f, pki: f["pem"], "not the passphrase", "passphrase", "passphrase is wrong"),
    "missing passphrase": (lambda f, pki: f["p12"], "", "passphrase", "protected by a passphrase"),
    "key not matching": (lambda f, pki: _mismatched_pem(pki), "", "file", "does not belong"),
    "truncated PKCS#12": (lambda f, pki: f["p12"][: len(f["p12"]) // 2], PASSPHRASE, "file", "truncated"),
    "truncated PEM": (lambda f, pki: f["pem"][: len(f["pem"]) // 2], PASSPHRASE, "file", "truncated"),
    "unsupported type (CSR)": (lambda f, pki: _csr_pem(), "", "file", "signing request"),
    "not a certificate at all": (lambda f, pki: b"hello, this is a text file\n", "", "file", "not a certificate"),
    "over the size cap": (lambda f, pki: f["pem"] + b"\n" * (300 * 1024), PASSPHRASE, "file", "larger than"),
    "empty": (lambda f, pki: b"", "", "file", "empty"),
}


@pytest.fixture
def files(p12_file, pem_file):
    return {"p12": p12_file, "pem": pem_file}


@pytest.mark.parametrize("case", BAD_INPUTS, ids=list(BAD_INPUTS))
def test_bad_input_is_a_clear_field_error_and_writes_nothing(case, files, pki, appliance_admin, appliances):
    build, passphrase, field, words = BAD_INPUTS[case]
    audit_before = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as caught:
        certificate_import(actor=appliance_admin, appliance=appliances[0], data=build(files, pki), passphrase=passphrase)
    messages = caught.value.message_dict
    assert list(messages) == [field]
    assert words.lower() in messages[field][0].lower()
    assert Certificate.objects.count() == 0
    assert AuditEvent.objects.count() == audit_before


@pytest.mark.parametrize("case", ["wrong passphrase (PKCS#12)", "key not matching", "truncated PKCS#12",
                                  "unsupported type (CSR)", "over the size cap"])
def test_bad_input_in_the_ui_shows_the_message_on_the_form(case, files, pki, appliance_admin, appliances, login):
    build, passphrase, field, words = BAD_INPUTS[case]
    response = login(appliance_admin).post("/certificates/import/", {
        "appliance": appliances[0].pk, "passphrase": passphrase,
        "file": SimpleUploadedFile("upload.p12", build(files, pki)),
    })
    assert response.status_code == 200
    assert words.lower() in response.context["form"].errors[field][0].lower()
    assert Certificate.objects.count() == 0


@pytest.mark.parametrize("case", ["wrong passphrase (PKCS#12)", "key not matching", "unsupported type (CSR)"])
def test_bad_input_over_rest_is_a_400_field_error(case, files, pki, appliance_admin, appliances, api_as):
    build, passphrase, field, words = BAD_INPUTS[case]
    response = api_as(appliance_admin).post("/api/v1/certificates/", {
        "appliance": appliances[0].pk, "passphrase": passphrase,
        "content": base64.b64encode(build(files, pki)).decode(),
    }, format="json")
    assert response.status_code == 400
    assert words.lower() in str(response.json()[field]).lower()
    assert Certificate.objects.count() == 0


def test_ui_import_then_download_round_trip(p12_file, pki, appliance_admin, appliances, login):
    client = login(appliance_admin)
    response = client.post("/certificates/import/", {
        "appliance": appliances[0].pk, "passphrase": PASSPHRASE, "friendly_name": "Site cert",
        "make_default": "on", "file": SimpleUploadedFile("site.pfx", p12_file),
    })
    certificate = Certificate.objects.get()
    assert response.status_code == 302 and response["Location"] == certificate.get_absolute_url()
    assert certificate.friendly_name == "Site cert" and certificate.is_default
    download = client.post(f"/certificates/{certificate.pk}/export/", {
        "export_format": "pkcs12", "include_chain": "on", "include_key": "on",
        "passphrase": "download pass 1", "passphrase_again": "download pass 1",
    })
    assert download.status_code == 200
    assert download["Content-Type"] == "application/x-pkcs12"
    key, cert, extra = pkcs12.load_key_and_certificates(download.content, b"download pass 1")
    assert cert == pki["leaf"].certificate and key_der(key) == key_der(pki["leaf"].key) and len(extra) == 2


def test_rest_import_multipart_then_export_round_trip(pem_file, pki, appliance_admin, appliances, api_as):
    api = api_as(appliance_admin)
    created = api.post("/api/v1/certificates/", {
        "appliance": appliances[0].pk, "passphrase": PASSPHRASE, "file": SimpleUploadedFile("bundle.pem", pem_file),
    }, format="multipart")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["fingerprint_sha256"] == pki["leaf"].certificate.fingerprint(hashes.SHA256()).hex()
    assert body["portal_has_key"] is True and len(body["chain"]) == 2
    exported = api.post(f"/api/v1/certificates/{body['id']}/export/",
                        {"format": "pem", "include_key": True, "passphrase": "rest pass 123"}, format="json")
    assert exported.status_code == 200
    key = serialization.load_pem_private_key(
        exported.content[exported.content.index(b"-----BEGIN ENCRYPTED PRIVATE KEY"):], b"rest pass 123"
    )
    assert key_der(key) == key_der(pki["leaf"].key)


def test_import_is_audited_without_the_key(appliance_admin, appliances, p12_file):
    certificate = certificate_import(actor=appliance_admin, appliance=appliances[0], data=p12_file,
                                     passphrase=PASSPHRASE)
    event = AuditEvent.objects.get(object_type="certificates.certificate", object_id=str(certificate.pk))
    assert event.verb == "certificate_import" and event.changes["private_key"] == "(secret changed)"


def test_viewer_and_operator_cannot_import(org_a, make_member, appliances, p12_file):
    for role in (Role.VIEWER, Role.OPERATOR):
        with pytest.raises(PermissionDenied):
            certificate_import(actor=make_member(org_a, role), appliance=appliances[0], data=p12_file,
                               passphrase=PASSPHRASE)
    assert Certificate.objects.count() == 0


@pytest.mark.parametrize("as_file", [True, False], ids=["multipart", "base64"])
def test_oversized_import_over_rest_is_refused_before_parsing(as_file, files, appliance_admin, appliances, api_as):
    big = files["pem"] + b"\n" * (300 * 1024)
    if as_file:
        payload = {"appliance": appliances[0].pk, "file": SimpleUploadedFile("big.pem", big)}
        response = api_as(appliance_admin).post("/api/v1/certificates/", payload, format="multipart")
        field = "file"
    else:
        payload = {"appliance": appliances[0].pk, "content": base64.b64encode(big).decode()}
        response = api_as(appliance_admin).post("/api/v1/certificates/", payload, format="json")
        field = "content"
    assert response.status_code == 400
    assert field in response.json()
    assert Certificate.objects.count() == 0
