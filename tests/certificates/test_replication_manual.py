"""Replication to a backup the portal cannot install certificates on (here its API account is refused every
configuration action): the portal records the certificate for the backup and hands the operator the remaining
manual steps, with the reason, instead of failing."""

import pytest
from cryptography.hazmat.primitives import hashes

from certificates.crypto import export_pkcs12, generate
from certificates.models import Certificate
from certificates.services import certificate_import
from demo.fleet_loader import fleet_load
from failover.models import Pair
from failover.services.certificates import pair_certificate_replicate
from portal.models import Role
from portal.permissions import SYSTEM
from simulator.fleet import generate_fleet
from simulator.testing import SimulatorProcess
from tests.factories.certificates import factory_ca

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def legacy_backup_simulator():
    fleet = generate_fleet(organisations=1, pairs_per_org=1, singles=0, seed="manual-replication")
    backup = fleet["organisations"][0]["appliances"][1]
    backup["perm_command"] = "deny"
    with SimulatorProcess(fleet=fleet, time_scale=0.01) as sim:
        yield sim


def test_manual_steps_when_the_backup_cannot_import(legacy_backup_simulator, make_member):
    sim = legacy_backup_simulator
    sim.reset()
    loaded = fleet_load(actor=SYSTEM, fleet=sim.fleet_path, ca_pem=sim.ca_path.read_text(), port=sim.port)
    (primary_data, backup_data), = sim.pairs()
    primary, backup = loaded.appliances[primary_data["name"]], loaded.appliances[backup_data["name"]]
    organization = loaded.organizations[0]
    pair = Pair.objects.create(organization=organization, site_hostname="legacy.sim.test", primary=primary,
                               backup=backup, shared_ip="127.250.9.1", backup_host=backup.management_host,
                               reverse_host=primary.management_host)
    admin, operator = make_member(organization, Role.ADMIN), make_member(organization, Role.OPERATOR)
    issued = generate.make_leaf(factory_ca(), "legacy.sim.test")
    data = export_pkcs12(issued.certificate, private_key=issued.key, passphrase="legacy pass 1")
    certificate_import(actor=admin, appliance=primary, data=data, passphrase="legacy pass 1", make_default=True)

    result = pair_certificate_replicate(actor=operator, pair=pair)

    assert result.via_appliance is False and result.check is None
    assert "API account may not change its configuration" in result.message
    assert "Security > Certificates > Import" in result.message and "default certificate" in result.message
    target = Certificate.objects.get(appliance=backup)
    assert target.fingerprint_sha256 == issued.certificate.fingerprint(hashes.SHA256()).hex()
    assert not target.on_appliance  # recorded for the backup, not claimed to be installed
    fingerprints = {c["sha256_fingerprint"] for c in sim.state(backup.management_host)["certificates"]}
    assert target.fingerprint_sha256 not in fingerprints
