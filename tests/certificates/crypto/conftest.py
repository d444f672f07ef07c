"""Shared certificate fixtures: a small PKI (root -> intermediate -> leaf) built once per session."""

import pytest

from certificates.crypto import generate
from tests.certificates.crypto.helpers import APPLIANCE, DATA, NOW, SITE


@pytest.fixture(scope="session")
def now():
    return NOW


@pytest.fixture(scope="session")
def root():
    return generate.make_ca("Test Root CA", now=NOW)


@pytest.fixture(scope="session")
def intermediate(root):
    return generate.make_ca("Test Issuing CA", issuer=root, now=NOW)


@pytest.fixture(scope="session")
def leaf(intermediate):
    return generate.make_leaf(intermediate, SITE, dns_names=[SITE, APPLIANCE], now=NOW, serial=0x1234)


@pytest.fixture(scope="session")
def rsa_leaf(intermediate):
    return generate.make_leaf(intermediate, SITE, key=generate.new_key("rsa"), now=NOW)


@pytest.fixture(scope="session")
def sha1_pem():
    # SHA-1 signatures cannot be produced with cryptography any more; this fixture was
    # made once with `openssl req -x509 -sha1 -newkey rsa:2048 -days 3650 -subj /CN=sha1.test`.
    return (DATA / "sha1_self_signed.pem").read_bytes()
