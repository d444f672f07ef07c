"""Parity from the wire, against the simulator's real TLS endpoints: what each appliance serves with the site
name as SNI and with none, compared across the pair; drift injected through the simulator's control API;
expiry and drift alerts, throttled; the selector the pairs app reads."""

from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import hashes

from appliances.connect import appliance_client
from certificates.alerts import CertificateAlertKind as AlertKind
from certificates.crypto import generate
from certificates.models import ServedCertificate
from certificates.services import certificate_inventory_sync
from certificates.tasks import refresh_served_appliance
from failover.models import AdviceFinding
from failover.selectors import pair_certificate_parity
from failover.services.certificates import pair_certificates_check
from failover.tasks import refresh_served_pair
from portal.models import Alert
from tests.factories.certificates import factory_ca

pytestmark = pytest.mark.django_db


def _served_default(sim, appliance) -> str:
    state = sim.state(appliance.management_host)
    return next(c["sha256_fingerprint"] for c in state["certificates"] if c["default"])


def _install_same_certificate(sim, pair, **leaf_options):
    """What an administrator does by hand on both appliances: the same certificate as default."""
    issued = generate.make_leaf(factory_ca(), pair.site_hostname, **leaf_options)
    for appliance in (pair.primary, pair.backup):
        sim.replace_certificate(appliance.management_host, issued.cert_pem.decode(), issued.key_pem.decode(),
                                factory_ca().cert_pem.decode())
    return issued


def test_parity_is_unknown_until_checked(sim_fleet):
    parity = pair_certificate_parity(sim_fleet.pairs[0])
    assert parity.match is None and parity.checked_at is None
    assert "not been checked" in parity.reason


def test_simulated_members_serve_their_own_certificates_so_parity_fails(sim_fleet):
    sim, pair = sim_fleet.sim, sim_fleet.pairs[0]
    check = pair_certificates_check(pair=pair)
    parity = pair_certificate_parity(pair)
    assert check.parity.match is False and parity.match is False
    assert parity.primary_fingerprint == _served_default(sim, pair.primary)
    assert parity.backup_fingerprint == _served_default(sim, pair.backup)
    assert "different certificates" in parity.reason
    assert {c.server_name for c in parity.checks} == {pair.site_hostname, ""}
    alerts = Alert.objects.filter(kind=AlertKind.CERTIFICATE_DRIFT, pair=pair)
    assert alerts.count() == 1
    pair_certificates_check(pair=pair)  # the condition persists: throttled, not repeated
    assert alerts.count() == 1


def test_identical_certificates_match_with_and_without_sni(sim_fleet):
    sim, pair = sim_fleet.sim, sim_fleet.pairs[0]
    issued = _install_same_certificate(sim, pair)
    parity = pair_certificates_check(pair=pair).parity
    assert parity.match is True, parity.reason
    expected = issued.certificate.fingerprint(hashes.SHA256()).hex()
    assert parity.primary_fingerprint == parity.backup_fingerprint == expected
    assert all(c.match for c in parity.checks)
    assert not Alert.objects.filter(kind=AlertKind.CERTIFICATE_DRIFT).exists()


def test_the_pairs_stored_advice_follows_what_its_members_serve(sim_fleet):
    sim, pair = sim_fleet.sim, sim_fleet.pairs[0]
    mismatch = AdviceFinding.objects.filter(pair=pair, code="certificate_mismatch")
    pair_certificates_check(pair=pair)
    assert mismatch.exists()
    _install_same_certificate(sim, pair)
    pair_certificates_check(pair=pair)
    assert not mismatch.exists()


def test_changed_cert_fault_is_detected_as_drift(sim_fleet):
    sim, pair = sim_fleet.sim, sim_fleet.pairs[0]
    _install_same_certificate(sim, pair)
    assert pair_certificates_check(pair=pair).parity.match is True
    sim.set_fault(pair.backup.management_host, "changed_cert")
    parity = pair_certificates_check(pair=pair).parity
    assert parity.match is False
    assert parity.primary_fingerprint != parity.backup_fingerprint
    observation = ServedCertificate.objects.get(appliance=pair.backup, server_name="")
    assert observation.previous_fingerprint == parity.primary_fingerprint and observation.changed_at is not None
    alert = Alert.objects.get(kind=AlertKind.CERTIFICATE_DRIFT, pair=pair)
    assert pair.backup.name in alert.body or "Backup" in alert.body


def test_an_unreachable_member_makes_parity_unknown_not_equal(sim_fleet):
    sim, pair = sim_fleet.sim, sim_fleet.pairs[0]
    _install_same_certificate(sim, pair)
    sim.set_fault(pair.backup.management_host, "down")
    parity = pair_certificates_check(pair=pair).parity
    assert parity.match is None
    assert "could not be read" in parity.reason


def test_sni_selects_an_imported_certificate_for_the_site_name(sim_fleet):
    """The primary holds a site certificate next to its default: with SNI it serves it, without SNI the default.
    The backup has only its default, so the SNI check is where the pair differs."""
    sim, pair = sim_fleet.sim, sim_fleet.pairs[0]
    issued = generate.make_leaf(factory_ca(), pair.site_hostname)
    appliance_client(pair.primary).import_certificate(certificate=issued.cert_pem.decode(),
                                                      private_key=issued.key_pem.decode())
    check = pair_certificates_check(pair=pair)
    by_name = {(o.appliance_id, o.server_name): o for o in check.observations}
    assert by_name[(pair.primary_id, pair.site_hostname)].subject == f"CN={pair.site_hostname}"
    assert by_name[(pair.primary_id, "")].fingerprint_sha256 == _served_default(sim, pair.primary)
    assert check.parity.match is False and pair.site_hostname in check.parity.reason


def test_expiring_served_certificate_raises_a_throttled_expiry_alert(sim_fleet):
    sim, pair = sim_fleet.sim, sim_fleet.pairs[0]
    _install_same_certificate(sim, pair, valid_for=timedelta(days=6))
    assert refresh_served_pair(pair.pk) is True  # the beat's per-pair task, called directly
    alerts = Alert.objects.filter(kind=AlertKind.CERTIFICATE_EXPIRY)
    assert {a.appliance_id for a in alerts} == {pair.primary_id, pair.backup_id}
    assert all("expires in" in a.subject for a in alerts)
    refresh_served_pair(pair.pk)
    assert alerts.count() == 2


def test_a_certificate_changed_outside_the_portal_is_flagged(sim_fleet):
    sim = sim_fleet.sim
    single = next(a for name, a in sim_fleet.appliances.items() if "single" in name)
    certificate_inventory_sync(actor=sim_fleet.operator, appliance=single)
    assert refresh_served_appliance(single.pk) == 2
    assert not Alert.objects.filter(kind=AlertKind.CERTIFICATE_DRIFT).exists()
    issued = generate.make_leaf(factory_ca(), single.site_hostname)
    sim.replace_certificate(single.management_host, issued.cert_pem.decode(), issued.key_pem.decode())
    refresh_served_appliance(single.pk)
    observation = ServedCertificate.objects.get(appliance=single, server_name="")
    assert observation.in_inventory is False
    assert Alert.objects.filter(kind=AlertKind.CERTIFICATE_DRIFT, appliance=single).count() == 1


def test_pair_panel_and_check_button(sim_fleet, login):
    pair = sim_fleet.pairs[0]
    client = login(sim_fleet.operator)
    page = client.get(f"/certificates/pairs/{pair.pk}/").content.decode()
    assert 'data-parity="unknown"' in page
    response = client.post(f"/certificates/pairs/{pair.pk}/check/", {"next": f"/certificates/pairs/{pair.pk}/"})
    assert response.status_code == 302
    page = client.get(f"/certificates/pairs/{pair.pk}/").content.decode()
    assert 'data-parity="mismatch"' in page and "different certificates" in page


def test_parity_over_rest(sim_fleet, api_as):
    pair = sim_fleet.pairs[0]
    api = api_as(sim_fleet.operator)
    checked = api.post(f"/api/v1/pair-certificates/{pair.pk}/check/")
    assert checked.status_code == 200 and checked.json()["match"] is False
    listed = api_as(sim_fleet.viewer).get("/api/v1/pair-certificates/").json()["results"]
    assert {row["id"]: row["parity"]["match"] for row in listed}[pair.pk] is False
    assert api_as(sim_fleet.viewer).post(f"/api/v1/pair-certificates/{pair.pk}/check/").status_code == 403
