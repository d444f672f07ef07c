"""Fixtures of the certificates app tests: a small PKI, files built from it, and the simulator loaded into the
inventory with one Pair row per simulated pair."""

from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives import serialization

from certificates.crypto import export_pem, export_pkcs12, generate
from demo.fleet_loader import fleet_load
from failover.models import Pair
from portal.models import Role
from portal.permissions import SYSTEM
from tests.factories.certificates import factory_ca

SITE = "access.example.com"
PASSPHRASE = "correct horse battery staple"


@pytest.fixture(scope="session")
def pki():
    root = generate.make_ca("Cert Tests Root CA")
    issuing = generate.make_ca("Cert Tests Issuing CA", issuer=root)
    leaf = generate.make_leaf(issuing, SITE, dns_names=[SITE, "*.example.com"])
    return {"root": root, "issuing": issuing, "leaf": leaf}


@pytest.fixture(scope="session")
def p12_file(pki):
    """The leaf, its chain and key as a passphrase-protected PKCS#12 file."""
    return export_pkcs12(
        pki["leaf"].certificate, chain=[pki["issuing"].certificate, pki["root"].certificate],
        private_key=pki["leaf"].key, passphrase=PASSPHRASE, friendly_name="site certificate",
    )


@pytest.fixture(scope="session")
def pem_file(pki):
    """The leaf, its chain and its key (encrypted with PASSPHRASE) as one PEM bundle."""
    return export_pem(
        pki["leaf"].certificate, chain=[pki["issuing"].certificate, pki["root"].certificate],
        private_key=pki["leaf"].key, passphrase=PASSPHRASE,
    )


def key_der(key) -> bytes:
    return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


@pytest.fixture
def appliance_admin(org_a, make_member):
    return make_member(org_a, Role.ADMIN, username="cert-admin")


@dataclass
class SimulatedFleet:
    sim: object
    organization: object
    appliances: dict
    pairs: list
    admin: object
    operator: object
    viewer: object


@pytest.fixture
def sim_fleet(db, fresh_simulator, make_member):
    """The session simulator's fleet as inventory appliances (trusted through its CA) and Pair rows."""
    sim = fresh_simulator
    loaded = fleet_load(actor=SYSTEM, fleet=sim.fleet_path, ca_pem=sim.ca_path.read_text(), port=sim.port)
    organization = loaded.organizations[0]
    # The organisation's own CA signs the certificates the tests install; the portal trusts it next to the
    # simulator's, as an administrator would add it before rolling out such certificates.
    for appliance in loaded.appliances.values():
        appliance.ca_bundle += factory_ca().cert_pem.decode()
        appliance.save(update_fields=["ca_bundle"])
    pairs = []
    for index, (primary, backup) in enumerate(sim.pairs()):
        pairs.append(Pair.objects.create(
            organization=organization, site_hostname=f"site{index}.sim.test",
            primary=loaded.appliances[primary["name"]], backup=loaded.appliances[backup["name"]],
            shared_ip=f"127.250.0.{index + 1}", backup_host=primary["address"], reverse_host=backup["address"],
        ))
    return SimulatedFleet(
        sim=sim, organization=organization, appliances=loaded.appliances, pairs=pairs,
        admin=make_member(organization, Role.ADMIN, username="sim-admin"),
        operator=make_member(organization, Role.OPERATOR, username="sim-operator"),
        viewer=make_member(organization, Role.VIEWER, username="sim-viewer"),
    )
