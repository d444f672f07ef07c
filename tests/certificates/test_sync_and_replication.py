"""Inventory sync from the appliance, installation on the appliance, and one-action replication of the
primary's certificate configuration to the backup, all against the simulator's real API and TLS endpoints."""

import base64

import pytest
from cryptography.hazmat.primitives import hashes
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from certificates.crypto import export_pkcs12, generate
from certificates.models import Certificate, CertificateSource
from certificates.selectors import certificate_warnings
from certificates.services import (
    certificate_import,
    certificate_inventory_sync,
    certificate_set_default,
)
from failover.selectors import pair_certificate_parity
from failover.services.certificates import pair_certificate_replicate
from portal.models import AuditEvent
from tests.factories.certificates import factory_ca

pytestmark = pytest.mark.django_db

P12_PASSPHRASE = "replicate me 2026"


def _defaults(sim, appliance) -> list[str]:
    return [c["sha256_fingerprint"] for c in sim.state(appliance.management_host)["certificates"] if c["default"]]


def _site_p12(pair):
    """A pair certificate: the site name, plus both members' names and addresses, since the portal reaches each
    appliance's API by address and verifies the certificate it is served there."""
    members = (pair.primary, pair.backup)
    issued = generate.make_leaf(factory_ca(), pair.site_hostname,
                                dns_names=[pair.site_hostname, *(m.site_hostname for m in members)],
                                ip_addresses=[m.management_host for m in members])
    data = export_pkcs12(issued.certificate, chain=[factory_ca().certificate], private_key=issued.key,
                         passphrase=P12_PASSPHRASE, friendly_name="site")
    return issued, data


def _fingerprint(issued) -> str:
    return issued.certificate.fingerprint(hashes.SHA256()).hex()


def test_sync_reads_what_the_appliance_holds(sim_fleet):
    sim, primary = sim_fleet.sim, sim_fleet.pairs[0].primary
    result = certificate_inventory_sync(actor=sim_fleet.operator, appliance=primary)
    assert len(result.created) == 1 and not result.skipped
    certificate = Certificate.objects.get(appliance=primary)
    assert [certificate.fingerprint_sha256] == _defaults(sim, primary)
    assert certificate.is_default and certificate.is_factory and certificate.on_appliance
    assert certificate.source == CertificateSource.APPLIANCE and not certificate.portal_has_key
    # The simulator's shipped certificate is the default: the seed forbids exactly that.
    codes = {w.code for w in certificate_warnings(certificate)}
    assert "default_factory" in codes and "incomplete_chain" not in codes  # the appliance holds the chain
    again = certificate_inventory_sync(actor=sim_fleet.operator, appliance=primary)
    assert len(again.created) == 0 and Certificate.objects.filter(appliance=primary).count() == 1
    assert AuditEvent.objects.filter(verb="certificate_sync", object_id=str(primary.pk)).count() == 2


def test_sync_needs_the_operator_role(sim_fleet, login, api_as):
    primary = sim_fleet.pairs[0].primary
    with pytest.raises(PermissionDenied):
        certificate_inventory_sync(actor=sim_fleet.viewer, appliance=primary)
    assert login(sim_fleet.viewer).post(f"/certificates/appliances/{primary.pk}/sync/").status_code == 403
    response = api_as(sim_fleet.operator).post(f"/api/v1/appliance-certificates/{primary.pk}/sync/")
    assert response.status_code == 200 and response.json()["created"] == 1


def test_import_with_install_makes_the_appliance_serve_it(sim_fleet):
    sim, pair = sim_fleet.sim, sim_fleet.pairs[0]
    issued, data = _site_p12(pair)
    certificate = certificate_import(actor=sim_fleet.admin, appliance=pair.primary, data=data,
                                     passphrase=P12_PASSPHRASE, install=True, make_default=True)
    assert _defaults(sim, pair.primary) == [_fingerprint(issued)]
    assert certificate.on_appliance and certificate.appliance_certificate_id and certificate.is_default
    certificate_inventory_sync(actor=sim_fleet.operator, appliance=pair.primary)
    rows = Certificate.objects.filter(appliance=pair.primary)
    assert rows.count() == 2 and rows.get(is_default=True).pk == certificate.pk


def test_an_import_the_portal_cannot_record_is_not_installed_first(sim_fleet):
    sim, pair = sim_fleet.sim, sim_fleet.pairs[0]
    before = sim.state(pair.primary.management_host)["certificates"]
    _, data = _site_p12(pair)
    with pytest.raises(ValidationError) as error:
        certificate_import(actor=sim_fleet.admin, appliance=pair.primary, data=data, passphrase=P12_PASSPHRASE,
                           install=True, make_default=True, assigned_ip="not an address")
    assert "assigned_ip" in error.value.message_dict
    assert sim.state(pair.primary.management_host)["certificates"] == before
    assert not Certificate.objects.filter(appliance=pair.primary).exists()


def test_replication_through_the_appliance_gives_parity(sim_fleet):
    sim, pair = sim_fleet.sim, sim_fleet.pairs[0]
    issued, data = _site_p12(pair)
    certificate_import(actor=sim_fleet.admin, appliance=pair.primary, data=data, passphrase=P12_PASSPHRASE,
                       install=True, make_default=True, assigned_ip=pair.shared_ip)
    result = pair_certificate_replicate(actor=sim_fleet.operator, pair=pair)
    assert result.via_appliance
    assert _defaults(sim, pair.backup) == [_fingerprint(issued)]
    assert result.check.parity.match is True, result.check.parity.reason
    assert pair_certificate_parity(pair).match is True
    target = result.target
    assert target.appliance == pair.backup and target.is_default and target.source == CertificateSource.REPLICATION
    assert target.assigned_ip == pair.shared_ip and target.portal_has_key
    event = AuditEvent.objects.get(verb="certificate_replicate", object_type="failover.pair")
    assert event.actor == sim_fleet.operator and event.changes["via_appliance"] is True


def test_replication_is_refused_to_a_viewer(sim_fleet):
    sim, pair = sim_fleet.sim, sim_fleet.pairs[0]
    before = _defaults(sim, pair.backup)
    with pytest.raises(PermissionDenied):
        pair_certificate_replicate(actor=sim_fleet.viewer, pair=pair)
    assert _defaults(sim, pair.backup) == before


def test_guided_replication_when_the_portal_lacks_the_key(sim_fleet):
    """The primary's certificate was installed by hand: the portal knows it (sync) but not its key. The operator
    uploads the primary's export once, with its passphrase; the portal installs it on the backup."""
    sim, pair = sim_fleet.sim, sim_fleet.pairs[0]
    issued, data = _site_p12(pair)
    sim.replace_certificate(pair.primary.management_host, issued.cert_pem.decode(), issued.key_pem.decode())
    certificate_inventory_sync(actor=sim_fleet.operator, appliance=pair.primary)
    with pytest.raises(ValidationError) as caught:
        pair_certificate_replicate(actor=sim_fleet.operator, pair=pair)
    assert "does not hold the private key" in str(caught.value)
    with pytest.raises(ValidationError) as caught:
        pair_certificate_replicate(actor=sim_fleet.operator, pair=pair, data=data, passphrase="wrong one")
    assert caught.value.message_dict == {"passphrase": ["The passphrase is wrong for this file."]}
    result = pair_certificate_replicate(actor=sim_fleet.operator, pair=pair, data=data, passphrase=P12_PASSPHRASE)
    assert result.via_appliance and result.check.parity.match is True
    assert _defaults(sim, pair.backup) == [_fingerprint(issued)]
    assert Certificate.objects.get(appliance=pair.primary, is_default=True).portal_has_key


def test_an_upload_that_is_not_the_primarys_certificate_is_refused(sim_fleet):
    sim, pair = sim_fleet.sim, sim_fleet.pairs[0]
    before = _defaults(sim, pair.backup)
    _, stranger = _site_p12(pair)
    with pytest.raises(ValidationError) as caught:
        pair_certificate_replicate(actor=sim_fleet.operator, pair=pair, data=stranger, passphrase=P12_PASSPHRASE)
    assert "neither in the primary's inventory nor served by it" in str(caught.value)
    assert _defaults(sim, pair.backup) == before
    assert not Certificate.objects.filter(appliance=pair.backup).exists()


def test_replication_from_the_pair_page_and_over_rest(sim_fleet, login, api_as):
    sim, pair = sim_fleet.sim, sim_fleet.pairs[0]
    issued, data = _site_p12(pair)
    sim.replace_certificate(pair.primary.management_host, issued.cert_pem.decode(), issued.key_pem.decode())
    certificate_inventory_sync(actor=sim_fleet.operator, appliance=pair.primary)
    client = login(sim_fleet.operator)
    response = client.post(f"/certificates/pairs/{pair.pk}/", {
        "file": SimpleUploadedFile("primary.p12", data), "passphrase": P12_PASSPHRASE,
    })
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert 'data-parity="match"' in page
    # Second pair over REST, with the file as base64.
    other = sim_fleet.pairs[1]
    issued, data = _site_p12(other)
    sim.replace_certificate(other.primary.management_host, issued.cert_pem.decode(), issued.key_pem.decode())
    certificate_inventory_sync(actor=sim_fleet.operator, appliance=other.primary)
    body = api_as(sim_fleet.operator).post(f"/api/v1/pair-certificates/{other.pk}/replicate/", {
        "content": base64.b64encode(data).decode(), "passphrase": P12_PASSPHRASE,
    }, format="json")
    assert body.status_code == 200, body.content
    assert body.json()["parity"]["match"] is True and body.json()["via_appliance"] is True
    assert b"PRIVATE KEY" not in body.content


def test_a_default_that_would_lock_the_portal_out_is_refused(sim_fleet):
    """Clients reaching the API by address get the default certificate: one that does not cover that address
    would make the portal's own TLS verification fail from then on."""
    sim, pair = sim_fleet.sim, sim_fleet.pairs[0]
    issued = generate.make_leaf(factory_ca(), pair.site_hostname)  # the site name only
    data = export_pkcs12(issued.certificate, chain=[factory_ca().certificate], private_key=issued.key,
                         passphrase=P12_PASSPHRASE)
    with pytest.raises(ValidationError) as caught:
        certificate_import(actor=sim_fleet.admin, appliance=pair.primary, data=data, passphrase=P12_PASSPHRASE,
                           install=True, make_default=True)
    assert pair.primary.management_host in caught.value.message_dict["make_default"][0]
    held = sim.state(pair.primary.management_host)["certificates"]
    assert _fingerprint(issued) not in {c["sha256_fingerprint"] for c in held}
    assert not Certificate.objects.exists()
    # Not as the default: installed, served only to clients asking for the site name.
    certificate_import(actor=sim_fleet.admin, appliance=pair.primary, data=data, passphrase=P12_PASSPHRASE,
                       install=True)
    held = sim.state(pair.primary.management_host)["certificates"]
    assert _fingerprint(issued) in {c["sha256_fingerprint"] for c in held}
    assert _fingerprint(issued) not in _defaults(sim, pair.primary)


def test_set_default_on_the_appliance_admin_only_and_never_the_factory_certificate(sim_fleet, api_as):
    sim, pair = sim_fleet.sim, sim_fleet.pairs[0]
    issued, data = _site_p12(pair)
    certificate = certificate_import(actor=sim_fleet.admin, appliance=pair.primary, data=data,
                                     passphrase=P12_PASSPHRASE, install=True)
    certificate_inventory_sync(actor=sim_fleet.operator, appliance=pair.primary)
    factory = Certificate.objects.get(appliance=pair.primary, is_factory=True)
    with pytest.raises(PermissionDenied):
        certificate_set_default(actor=sim_fleet.operator, certificate=certificate)
    response = api_as(sim_fleet.admin).post(f"/api/v1/certificates/{certificate.pk}/set-default/")
    assert response.status_code == 200 and response.json()["is_default"] is True
    assert _defaults(sim, pair.primary) == [_fingerprint(issued)]
    factory.refresh_from_db()
    assert not factory.is_default
    with pytest.raises(ValidationError) as caught:
        certificate_set_default(actor=sim_fleet.admin, certificate=factory)
    assert "factory certificate cannot be the default" in str(caught.value)
    assert _defaults(sim, pair.primary) == [_fingerprint(issued)]
    assert AuditEvent.objects.filter(verb="certificate_set_default").count() == 1


def test_replicating_again_does_not_duplicate_on_the_backup(sim_fleet):
    sim, pair = sim_fleet.sim, sim_fleet.pairs[0]
    issued, data = _site_p12(pair)
    certificate_import(actor=sim_fleet.admin, appliance=pair.primary, data=data, passphrase=P12_PASSPHRASE,
                       install=True, make_default=True)
    pair_certificate_replicate(actor=sim_fleet.operator, pair=pair)
    second = pair_certificate_replicate(actor=sim_fleet.operator, pair=pair)
    assert "already held" in second.message and second.check.parity.match is True
    held = [c for c in sim.state(pair.backup.management_host)["certificates"]
            if c["sha256_fingerprint"] == _fingerprint(issued)]
    assert len(held) == 1 and held[0]["default"]
