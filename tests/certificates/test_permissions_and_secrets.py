"""Who may export a private key (admins of the certificate's organisation only, audited), and proof that the
key is never stored in clear, never returned by the API and never written to the audit log."""

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from django.db import connection

from certificates.models import Certificate
from certificates.services import certificate_export, certificate_import
from portal.models import AuditEvent, Role
from tests.factories import ApplianceFactory, CertificateFactory, PairFactory, ServedCertificateFactory

from .conftest import PASSPHRASE, key_der

pytestmark = pytest.mark.django_db

EXPORT_FORM = {"export_format": "pkcs12", "include_chain": "on", "include_key": "on",
               "passphrase": "export pass 123", "passphrase_again": "export pass 123"}
EXPORT_JSON = {"format": "pkcs12", "include_key": True, "passphrase": "export pass 123"}


@pytest.fixture
def certificate(org_a, appliance_admin, p12_file):
    appliance = ApplianceFactory(organization=org_a)
    return certificate_import(actor=appliance_admin, appliance=appliance, data=p12_file, passphrase=PASSPHRASE)


@pytest.mark.parametrize("role", [Role.VIEWER, Role.OPERATOR])
def test_viewer_and_operator_are_refused_the_private_key(role, org_a, make_member, certificate, login, api_as):
    user = make_member(org_a, role)
    audit_before = AuditEvent.objects.filter(verb="certificate_export_private_key").count()
    assert login(user).post(f"/certificates/{certificate.pk}/export/", EXPORT_FORM).status_code == 403
    response = api_as(user).post(f"/api/v1/certificates/{certificate.pk}/export/", EXPORT_JSON, format="json")
    assert response.status_code == 403
    assert AuditEvent.objects.filter(verb="certificate_export_private_key").count() == audit_before


@pytest.mark.parametrize("role", [Role.VIEWER, Role.OPERATOR])
def test_viewer_and_operator_may_export_the_public_certificate(role, org_a, make_member, certificate, api_as):
    response = api_as(make_member(org_a, role)).post(
        f"/api/v1/certificates/{certificate.pk}/export/", {"format": "pem"}, format="json")
    assert response.status_code == 200
    assert b"BEGIN CERTIFICATE" in response.content and b"PRIVATE KEY" not in response.content


def test_another_organisations_admin_gets_404(org_b, make_member, certificate, login, api_as):
    stranger = make_member(org_b, Role.ADMIN)
    client = login(stranger)
    assert client.get(f"/certificates/{certificate.pk}/export/").status_code == 404
    assert client.post(f"/certificates/{certificate.pk}/export/", EXPORT_FORM).status_code == 404
    assert api_as(stranger).post(f"/api/v1/certificates/{certificate.pk}/export/", EXPORT_JSON,
                                 format="json").status_code == 404


def test_admin_export_of_the_key_is_audited(appliance_admin, certificate, login):
    response = login(appliance_admin).post(f"/certificates/{certificate.pk}/export/", EXPORT_FORM)
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment;")
    event = AuditEvent.objects.get(verb="certificate_export_private_key")
    assert event.actor == appliance_admin and event.object_id == str(certificate.pk)
    assert event.changes["private_key"] is True


def _key_fingerprints(pki) -> list[bytes]:
    """Byte strings that would betray the key: its PEM header, its DER, its base64 and its PEM body."""
    der = key_der(pki["leaf"].key)
    pem = pki["leaf"].key_pem
    body = b"".join(pem.splitlines()[1:-1])
    return [der, base64.b64encode(der)[:40], body[:40], body[-40:]]


def _everything_stored() -> bytes:
    with connection.cursor() as cursor:
        cursor.execute("SELECT row_to_json(c)::text FROM certificates_certificate c")
        certificates = "".join(row[0] for row in cursor.fetchall())
        cursor.execute("SELECT row_to_json(a)::text FROM portal_auditevent a")
        audit = "".join(row[0] for row in cursor.fetchall())
    return (certificates + audit).encode()


def test_private_key_is_encrypted_in_the_database(certificate, pki):
    stored = _everything_stored()
    assert b"PRIVATE KEY" not in stored
    for secret in _key_fingerprints(pki):
        assert secret not in stored
    # ... and yet it is really there, encrypted, for the portal to use.
    key = serialization.load_pem_private_key(Certificate.objects.get().private_key.encode(), None)
    assert key_der(key) == key_der(pki["leaf"].key)


def test_private_key_never_in_api_output_nor_pages(appliance_admin, certificate, pki, api_as, login):
    api = api_as(appliance_admin)
    outputs = [
        api.get("/api/v1/certificates/").content,
        api.get(f"/api/v1/certificates/{certificate.pk}/").content,
        login(appliance_admin).get(f"/certificates/{certificate.pk}/").content,
        login(appliance_admin).get("/certificates/").content,
    ]
    for output in outputs:
        assert b"PRIVATE KEY" not in output and b'"private_key"' not in output
        for secret in _key_fingerprints(pki):
            assert secret not in output


def test_private_key_never_in_the_audit_log(appliance_admin, certificate, pki):
    certificate_export(actor=appliance_admin, certificate=certificate, include_key=True, passphrase="export pass 123")
    events = AuditEvent.objects.filter(organization=certificate.organization)
    assert {e.verb for e in events} >= {"certificate_import", "certificate_export_private_key"}
    text = "".join(f"{e.summary}{e.changes}{e.object_repr}" for e in events).encode()
    assert b"PRIVATE KEY" not in text and b"export pass 123" not in text and PASSPHRASE.encode() not in text
    for secret in _key_fingerprints(pki):
        assert secret not in text


def test_every_certificate_api_object_route_answers_404_to_another_organisation(org_a, org_b, make_member, api_as):
    """The generic route walker skips DRF detail routes (regex patterns), so this app proves its own."""
    pair = PairFactory(organization=org_a)
    certificate = CertificateFactory(appliance=pair.primary, with_key=True)
    served = ServedCertificateFactory(appliance=pair.primary)
    api = api_as(make_member(org_b, Role.ADMIN))
    calls = [
        ("get", f"/api/v1/certificates/{certificate.pk}/"), ("delete", f"/api/v1/certificates/{certificate.pk}/"),
        ("post", f"/api/v1/certificates/{certificate.pk}/export/"),
        ("post", f"/api/v1/certificates/{certificate.pk}/set-default/"),
        ("get", f"/api/v1/served-certificates/{served.pk}/"),
        ("get", f"/api/v1/pair-certificates/{pair.pk}/"), ("post", f"/api/v1/pair-certificates/{pair.pk}/check/"),
        ("post", f"/api/v1/pair-certificates/{pair.pk}/replicate/"),
        ("post", f"/api/v1/appliance-certificates/{pair.primary_id}/sync/"),
    ]
    for method, url in calls:
        assert getattr(api, method)(url, {}, format="json").status_code == 404, (method, url)
    assert Certificate.objects.filter(pk=certificate.pk).exists()
