"""A PKCS#12 file's key-derivation cost is read from its structure and capped before anything is decrypted."""

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import PrivateFormat, pkcs12

from certificates.crypto import KdfCostError, import_bundle
from certificates.crypto.pkcs12_cost import kdf_iterations

PASS = b"kdf cost test"


def p12(leaf, rounds: int, *, legacy: bool = False) -> bytes:
    builder = PrivateFormat.PKCS12.encryption_builder().kdf_rounds(rounds)
    if legacy:
        builder = builder.key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC).hmac_hash(hashes.SHA1())
    return pkcs12.serialize_key_and_certificates(b"site", leaf.key, leaf.certificate, None, builder.build(PASS))


@pytest.mark.parametrize("legacy", [False, True], ids=["pbes2", "pkcs12-pbe"])
def test_every_iteration_count_is_read_mac_first(leaf, legacy):
    # MAC (cryptography writes 2,048), the encrypted certificates, the shrouded key.
    assert kdf_iterations(p12(leaf, 4321, legacy=legacy)) == [2048, 4321, 4321]


def test_a_file_above_the_cap_is_refused_before_decrypting(leaf, monkeypatch):
    data = p12(leaf, 50_000)

    def never(*args, **kwargs):  # the loader runs the KDF: it must not be reached
        raise AssertionError("the file was decrypted")

    monkeypatch.setattr(pkcs12, "load_pkcs12", never)
    with pytest.raises(KdfCostError, match="50,000 key-derivation iterations; at most 10,000"):
        import_bundle(data, PASS, max_kdf_iterations=10_000)


def test_the_mac_count_is_capped_too(leaf):
    with pytest.raises(KdfCostError, match="2,048"):
        import_bundle(p12(leaf, 500), PASS, max_kdf_iterations=1_000)


def test_a_file_within_the_cap_imports(leaf):
    bundle = import_bundle(p12(leaf, 20_000), PASS, max_kdf_iterations=20_000)
    assert bundle.private_key is not None


@pytest.mark.parametrize("data", [b"\x30\x80" * 40, b"\x30\x84\xff\xff\xff\xff", b"\x30\x03\x02\x01", b"\x04\x00"])
def test_hostile_structures_are_not_a_crash(data):
    assert kdf_iterations(data) == []


def test_uploads_are_held_to_the_setting_as_a_file_error(leaf, settings):
    from django.core.exceptions import ValidationError

    from certificates.services.inventory import read_bundle

    settings.CERTIFICATE_PKCS12_MAX_ITERATIONS = 10_000
    with pytest.raises(ValidationError) as error:
        read_bundle(data=p12(leaf, 50_000), passphrase=PASS.decode())
    assert "at most 10,000" in " ".join(error.value.message_dict["file"])
