"""The certificate pages render for the roles that use them, and the buttons each role sees match what it may do."""

import pytest

from certificates.models import Certificate
from portal.models import AuditEvent, Role
from tests.factories import CertificateFactory, PairFactory, ServedCertificateFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def certificate(org_a):
    pair = PairFactory(organization=org_a)
    ServedCertificateFactory(appliance=pair.primary, server_name=pair.site_hostname)
    return CertificateFactory(appliance=pair.primary, with_key=True, is_default=True)


def test_viewer_reads_every_page_without_write_buttons(org_a, make_member, certificate, login):
    client = login(make_member(org_a, Role.VIEWER))
    listing = client.get("/certificates/").content.decode()
    assert str(certificate) in listing and "Add certificate" not in listing
    detail = client.get(f"/certificates/{certificate.pk}/").content.decode()
    assert certificate.fingerprint_display in detail and "Forget" not in detail
    assert "held by the portal (encrypted, never shown)" in detail
    appliance_page = client.get(f"/certificates/appliances/{certificate.appliance_id}/").content.decode()
    assert str(certificate) in appliance_page and "Sync from the appliance" not in appliance_page
    export = client.get(f"/certificates/{certificate.pk}/export/")
    assert export.status_code == 200 and "include_key" in export.content.decode()
    assert client.get(f"/certificates/{certificate.pk}/delete/").status_code == 403


def test_filters_narrow_the_list(org_a, make_member, certificate, login):
    other = CertificateFactory(appliance=certificate.appliance, friendly_name="zz-other")
    client = login(make_member(org_a))
    body = client.get("/certificates/", {"is_default": "true"}).content.decode()
    assert str(certificate) in body and "zz-other" not in body
    body = client.get("/certificates/", {"q": other.fingerprint_sha256[:12]}).content.decode()
    assert "zz-other" in body


def test_admin_sees_actions_and_can_forget_a_certificate(org_a, make_member, certificate, login):
    admin = make_member(org_a, Role.ADMIN)
    client = login(admin)
    assert "Import" in client.get(f"/certificates/appliances/{certificate.appliance_id}/").content.decode()
    form = client.get(f"/certificates/import/?appliance={certificate.appliance_id}")
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.content.decode()
    assert client.post(f"/certificates/{certificate.pk}/delete/").status_code == 302
    assert not Certificate.objects.exists()
    assert AuditEvent.objects.filter(action="delete", object_type="certificates.certificate").exists()


def test_pair_page_offers_replication_to_operators_only(org_a, make_member, certificate, login):
    pair = certificate.appliance.pairs_as_primary.get()
    operator_page = login(make_member(org_a, Role.OPERATOR)).get(f"/certificates/pairs/{pair.pk}/")
    assert "Replicate to the backup" in operator_page.content.decode() and "Check now" in operator_page.content.decode()
    viewer = make_member(org_a, Role.VIEWER)
    viewer_client = login(viewer)
    viewer_page = viewer_client.get(f"/certificates/pairs/{pair.pk}/").content.decode()
    assert "Replicate to the backup" not in viewer_page and "Check now" not in viewer_page
    assert viewer_client.post(f"/certificates/pairs/{pair.pk}/", {}).status_code == 403
    assert viewer_client.post(f"/certificates/pairs/{pair.pk}/check/").status_code == 403
