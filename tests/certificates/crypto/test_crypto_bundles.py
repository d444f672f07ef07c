"""Import of PKCS#12 / PEM / DER files: round trips and every rejected input."""

import os

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from certificates.crypto import (
    ExportFormat,
    FileTooLargeError,
    KeyMismatchError,
    MalformedFileError,
    NoCertificateError,
    PassphraseRequiredError,
    UnsupportedFormatError,
    WrongPassphraseError,
    export_bundle,
    export_pem,
    export_pkcs12,
    import_bundle,
    parse_certificate,
)
from certificates.crypto import errors as crypto_errors
from certificates.crypto.generate import make_leaf, new_key

PASS = "correct horse battery staple"


def pem(*items):
    return b"".join(i.certificate.public_bytes(serialization.Encoding.PEM) for i in items)


def key_bytes(key):
    return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def encrypted_key_pem(key, passphrase=PASS):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.BestAvailableEncryption(passphrase.encode()))


def assert_same_bundle(bundle, leaf, chain):
    assert parse_certificate(bundle.certificate).fingerprint_sha256 == \
        parse_certificate(leaf.certificate).fingerprint_sha256
    assert key_bytes(bundle.private_key) == key_bytes(leaf.key)
    assert list(bundle.chain) == [c.certificate for c in chain]


@pytest.fixture(scope="module")
def p12(leaf, intermediate, root):
    return export_pkcs12(leaf.certificate, chain=[intermediate.certificate, root.certificate],
                         private_key=leaf.key, passphrase=PASS, friendly_name="Site certificate")


# --- round trips ------------------------------------------------------------------


def test_pkcs12_round_trip(p12, leaf, intermediate, root):
    first = import_bundle(p12, PASS)
    assert first.source_format == "pkcs12"
    assert first.friendly_name == "Site certificate"
    assert_same_bundle(first, leaf, [intermediate, root])
    again = import_bundle(export_bundle(first, ExportFormat.PKCS12, include_key=True, passphrase="other"), "other")
    assert_same_bundle(again, leaf, [intermediate, root])
    assert again.friendly_name == "Site certificate"


def test_pem_round_trip_with_encrypted_key(leaf, intermediate, root):
    data = export_pem(leaf.certificate, chain=[intermediate.certificate, root.certificate],
                      private_key=leaf.key, passphrase=PASS)
    assert b"ENCRYPTED PRIVATE KEY" in data
    first = import_bundle(data, PASS)
    assert first.source_format == "pem" and first.friendly_name is None
    assert_same_bundle(first, leaf, [intermediate, root])
    again = import_bundle(export_bundle(first, "pem", include_key=True, passphrase=PASS), PASS)
    assert_same_bundle(again, leaf, [intermediate, root])


def test_rsa_key_round_trips_through_both_formats(rsa_leaf, intermediate):
    for data in (export_pkcs12(rsa_leaf.certificate, chain=[intermediate.certificate],
                               private_key=rsa_leaf.key, passphrase=PASS),
                 export_pem(rsa_leaf.certificate, chain=[intermediate.certificate],
                            private_key=rsa_leaf.key, passphrase=PASS)):
        assert_same_bundle(import_bundle(data, PASS), rsa_leaf, [intermediate])


def test_pem_bundle_in_any_order_is_ordered_leaf_to_root(leaf, intermediate, root):
    data = pem(root) + leaf.key_pem + pem(intermediate, leaf, root)  # root repeated on purpose
    bundle = import_bundle(data)
    assert_same_bundle(bundle, leaf, [intermediate, root])


def test_pem_without_key_finds_the_leaf(leaf, intermediate, root):
    bundle = import_bundle(pem(intermediate, root, leaf))
    assert bundle.certificate == leaf.certificate and bundle.private_key is None
    assert list(bundle.chain) == [intermediate.certificate, root.certificate]


def test_unrelated_extra_certificates_are_kept_after_the_chain(leaf, intermediate, root):
    stranger = make_leaf(root, "unrelated.example.com")
    bundle = import_bundle(pem(stranger) + pem(leaf, intermediate, root) + leaf.key_pem)
    assert bundle.certificate == leaf.certificate
    assert list(bundle.chain) == [intermediate.certificate, root.certificate, stranger.certificate]


def test_der_certificate(leaf):
    bundle = import_bundle(leaf.certificate.public_bytes(serialization.Encoding.DER))
    assert bundle.source_format == "der" and bundle.certificate == leaf.certificate
    assert bundle.private_key is None and bundle.chain == ()


def test_certificate_only_pkcs12_without_passphrase(leaf, intermediate):
    data = export_pkcs12(leaf.certificate, chain=[intermediate.certificate])
    bundle = import_bundle(data)
    assert bundle.certificate == leaf.certificate and bundle.private_key is None
    assert list(bundle.chain) == [intermediate.certificate]


def test_pkcs12_made_with_only_ca_certificates(leaf, intermediate):
    data = pkcs12.serialize_key_and_certificates(None, None, None, [intermediate.certificate, leaf.certificate],
                                                 serialization.NoEncryption())
    assert import_bundle(data).certificate == leaf.certificate


def test_passphrase_given_for_unprotected_files_is_ignored(leaf):
    assert import_bundle(pem(leaf) + leaf.key_pem, "unused").private_key is not None
    data = pkcs12.serialize_key_and_certificates(b"x", leaf.key, leaf.certificate, None,
                                                 serialization.NoEncryption())
    assert import_bundle(data, "unused").certificate == leaf.certificate


# --- rejected inputs ----------------------------------------------------------------


def test_pkcs12_wrong_passphrase(p12):
    with pytest.raises(WrongPassphraseError) as excinfo:
        import_bundle(p12, "wrong")
    assert excinfo.value.code == "wrong_passphrase"


@pytest.mark.parametrize("missing", [None, ""])
def test_pkcs12_missing_passphrase(p12, missing):
    with pytest.raises(PassphraseRequiredError):
        import_bundle(p12, missing)


def test_pem_encrypted_key_wrong_and_missing_passphrase(leaf):
    data = pem(leaf) + encrypted_key_pem(leaf.key)
    with pytest.raises(WrongPassphraseError):
        import_bundle(data, "wrong")
    with pytest.raises(PassphraseRequiredError):
        import_bundle(data)


def test_key_not_matching_certificate(leaf):
    with pytest.raises(KeyMismatchError) as excinfo:
        import_bundle(pem(leaf) + encrypted_key_pem(new_key()), PASS)
    assert excinfo.value.code == "key_mismatch"


def test_truncated_pkcs12(p12):
    with pytest.raises(MalformedFileError):
        import_bundle(p12[: len(p12) // 2], PASS)


def test_truncated_pem(leaf):
    data = pem(leaf)
    with pytest.raises(MalformedFileError):
        import_bundle(data[: len(data) // 2])


def test_damaged_pem_body(leaf):
    lines = pem(leaf).splitlines(keepends=True)
    lines[3] = b"!!!! not base64 !!!!\n"
    with pytest.raises(MalformedFileError):
        import_bundle(b"".join(lines))


def test_truncated_der_certificate(leaf):
    der = leaf.certificate.public_bytes(serialization.Encoding.DER)
    with pytest.raises(MalformedFileError):
        import_bundle(der[:-20])


def _csr(key):
    return (x509.CertificateSigningRequestBuilder()
            .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "csr.example.com")]))
            .sign(key, hashes.SHA256()))


@pytest.mark.parametrize("encoding", [serialization.Encoding.PEM, serialization.Encoding.DER])
def test_csr_is_unsupported(encoding):
    with pytest.raises(UnsupportedFormatError, match="signing request"):
        import_bundle(_csr(new_key()).public_bytes(encoding))


def test_der_public_key_is_unsupported():
    der = new_key().public_key().public_bytes(serialization.Encoding.DER,
                                              serialization.PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(UnsupportedFormatError, match="public key"):
        import_bundle(der)


@pytest.mark.parametrize("data", [b"\x00" + os.urandom(300), b"hello, this is a text file\n",
                                  b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"])
def test_random_or_foreign_content_is_unsupported(data):
    with pytest.raises(UnsupportedFormatError) as excinfo:
        import_bundle(data)
    assert excinfo.value.code == "unsupported_format"


def test_key_without_certificate(leaf):
    with pytest.raises(NoCertificateError):
        import_bundle(leaf.key_pem)
    der = leaf.key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())
    with pytest.raises(NoCertificateError):
        import_bundle(der)


@pytest.mark.parametrize("data", [b"", b"  \n"])
def test_empty_file(data):
    with pytest.raises(NoCertificateError):
        import_bundle(data)


def test_size_cap(leaf):
    with pytest.raises(FileTooLargeError) as excinfo:
        import_bundle(b"\n" * (256 * 1024 + 1))
    assert "256 KiB" in excinfo.value.message
    with pytest.raises(FileTooLargeError):
        import_bundle(pem(leaf), max_size=100)


def test_two_private_keys_are_refused(leaf):
    with pytest.raises(UnsupportedFormatError, match="more than one private key"):
        import_bundle(pem(leaf) + leaf.key_pem + new_key().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


def test_every_import_error_is_a_certificate_import_error():
    for cls in (FileTooLargeError, KeyMismatchError, MalformedFileError, NoCertificateError,
                PassphraseRequiredError, UnsupportedFormatError, WrongPassphraseError):
        assert issubclass(cls, crypto_errors.CertificateImportError)
        assert issubclass(cls, crypto_errors.CertificateError)
        assert cls.code != crypto_errors.CertificateImportError.code
