"""Shared certificate fixtures: a small PKI (root -> intermediate -> leaf) built once per session."""

import sys
from pathlib import Path

import pytest

# These tests are pure Python and are meant to run with `-p no:django`; without
# pytest-django nothing puts the project root (where manage.py lives) on sys.path.
_PROJECT_ROOT = str(Path(__file__).resolve().parents[3])
if _PROJECT_ROOT not in sys.path:
    sys.path.insert(0, _PROJECT_ROOT)

from certcrypto_helpers import APPLIANCE, DATA, NOW, SITE  # noqa: E402

from certificates.crypto import generate  # noqa: E402


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
