import hashlib

from cryptography.hazmat.primitives import serialization

from certificates.crypto import generate, parse_certificate, parse_pem
from certificates.crypto.chain import is_self_signed
from tests.certificates.crypto.helpers import APPLIANCE, NOW, SITE


def test_details_of_ca_signed_leaf(leaf, intermediate):
    d = parse_certificate(leaf.certificate)
    assert d.subject == f"CN={SITE}"
    assert d.common_name == SITE
    assert d.issuer == "CN=Test Issuing CA,O=Failover Portal Tests"
    assert d.issuer_common_name == "Test Issuing CA"
    assert d.dns_names == (SITE, APPLIANCE)
    assert d.ip_addresses == ()
    assert d.serial == "1234"
    assert d.not_before.tzinfo is not None and d.not_before < NOW < d.not_after
    assert d.key_type == "EC" and d.key_size == 256 and d.key_curve == "secp256r1"
    assert d.signature_hash == "sha256"
    assert not d.is_self_signed and not d.is_ca and not d.is_lets_encrypt


def test_fingerprints(leaf):
    d = parse_certificate(leaf.certificate)
    der = leaf.certificate.public_bytes(serialization.Encoding.DER)
    assert d.fingerprint_sha256 == hashlib.sha256(der).hexdigest()
    assert d.fingerprint_display == ":".join(
        d.fingerprint_sha256[i : i + 2] for i in range(0, 64, 2)
    ).upper()
    spki = leaf.key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert d.spki_sha256 == hashlib.sha256(spki).hexdigest()


def test_pem_round_trip(leaf):
    d = parse_certificate(leaf.certificate)
    assert d.to_x509() == leaf.certificate
    assert parse_pem(d.pem) == d


def test_ip_sans_and_key_types(intermediate):
    rsa = generate.make_leaf(intermediate, "h", dns_names=[], ip_addresses=["127.0.0.1", "::1"],
                             key=generate.new_key("rsa"), now=NOW)
    d = parse_certificate(rsa.certificate)
    assert d.ip_addresses == ("127.0.0.1", "::1") and d.dns_names == ()
    assert (d.key_type, d.key_size) == ("RSA", 2048)
    ed = parse_certificate(generate.make_self_signed("ed", key=generate.new_key("ed25519")).certificate)
    assert (ed.key_type, ed.key_size, ed.signature_hash) == ("Ed25519", 256, None)
    assert ed.is_self_signed


def test_self_signed_and_ca_flags(root):
    d = parse_certificate(root.certificate)
    assert d.is_self_signed and d.is_ca


def test_subject_equal_to_issuer_but_foreign_signature_is_not_self_signed(root):
    # Same name as the root, different key: the name alone must not make it "self-signed".
    impostor = generate.make_certificate("Test Root CA", organisation="Failover Portal Tests", issuer=root)
    assert impostor.certificate.subject == impostor.certificate.issuer
    assert is_self_signed(impostor.certificate) is False
    forged = generate.make_certificate("x")
    assert is_self_signed(forged.certificate)


def test_sha1_certificate_is_parsed_and_recognised_as_self_signed(sha1_pem):
    d = parse_pem(sha1_pem)
    assert d.signature_hash == "sha1"
    assert d.is_self_signed


def test_lets_encrypt_detection(now):
    _root, r11 = generate.make_lets_encrypt_chain(now)
    assert parse_certificate(generate.make_leaf(r11, SITE, now=now).certificate).is_lets_encrypt
    # Issuer CN alone is enough (organisation stripped from a re-assembled chain).
    bare_e6 = generate.make_ca("E6", organisation=None, now=now)
    assert parse_certificate(generate.make_leaf(bare_e6, SITE, now=now).certificate).is_lets_encrypt
    staging = generate.make_ca("(STAGING) Ersatz Edamame E1", organisation="(STAGING) Let's Encrypt", now=now)
    assert parse_certificate(generate.make_leaf(staging, SITE, now=now).certificate).is_lets_encrypt
    other = generate.make_ca("Corp CA", organisation="Example Corp", now=now)
    assert not parse_certificate(generate.make_leaf(other, SITE, now=now).certificate).is_lets_encrypt
