"""Export rules: a private key never leaves unprotected by accident, and PKCS#12 uses modern algorithms."""

import shutil
import subprocess

import pytest
from cryptography.hazmat.primitives import serialization

from certificates.crypto import (
    CertificateExportError,
    ExportPassphraseRequiredError,
    export_bundle,
    export_pem,
    export_pkcs12,
    import_bundle,
)
from certificates.crypto.generate import new_key


@pytest.mark.parametrize("passphrase", [None, ""])
def test_pkcs12_with_key_requires_passphrase(leaf, passphrase):
    with pytest.raises(ExportPassphraseRequiredError) as excinfo:
        export_pkcs12(leaf.certificate, private_key=leaf.key, passphrase=passphrase)
    assert excinfo.value.code == "passphrase_required"


def test_pem_with_key_requires_passphrase_unless_explicitly_allowed(leaf):
    with pytest.raises(ExportPassphraseRequiredError):
        export_pem(leaf.certificate, private_key=leaf.key)
    data = export_pem(leaf.certificate, private_key=leaf.key, allow_unencrypted_key=True)
    assert b"-----BEGIN PRIVATE KEY-----" in data
    assert import_bundle(data).private_key is not None


def test_certificate_only_exports_need_no_passphrase(leaf, intermediate):
    data = export_pem(leaf.certificate, chain=[intermediate.certificate])
    assert b"PRIVATE KEY" not in data
    assert data.count(b"BEGIN CERTIFICATE") == 2


def test_certificate_only_pkcs12_with_passphrase(leaf):
    data = export_pkcs12(leaf.certificate, passphrase="secret")
    assert import_bundle(data, "secret").certificate == leaf.certificate


def test_key_must_belong_to_certificate(leaf):
    with pytest.raises(CertificateExportError, match="does not belong"):
        export_pkcs12(leaf.certificate, private_key=new_key(), passphrase="x")
    with pytest.raises(CertificateExportError, match="does not belong"):
        export_pem(leaf.certificate, private_key=new_key(), passphrase="x")


def test_export_bundle_options(leaf, intermediate):
    bundle = import_bundle(export_pem(leaf.certificate, chain=[intermediate.certificate]))
    with pytest.raises(CertificateExportError, match="no private key"):
        export_bundle(bundle, "pem", include_key=True, passphrase="x")
    without_chain = export_bundle(bundle, "pem", include_chain=False)
    assert without_chain == leaf.certificate.public_bytes(serialization.Encoding.PEM)
    with pytest.raises(ValueError):
        export_bundle(bundle, "zip")


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl CLI not installed")
def test_pkcs12_uses_pbes2_aes256_and_sha256_mac(leaf, tmp_path):
    path = tmp_path / "out.p12"
    path.write_bytes(export_pkcs12(leaf.certificate, private_key=leaf.key, passphrase="secret"))
    result = subprocess.run(
        ["openssl", "pkcs12", "-info", "-noout", "-in", str(path), "-passin", "pass:secret"],
        capture_output=True, text=True, check=True,
    )
    info = result.stdout + result.stderr
    assert "MAC: sha256" in info
    assert "PBES2" in info and "AES-256-CBC" in info
    assert "RC2" not in info and "3DES" not in info
