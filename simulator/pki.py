"""Certificate authority and certificate helpers (ECDSA P-256: cheap to generate and to handshake)."""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

LEAF_DAYS = 397
CA_DAYS = 3650


@dataclass
class Certificate:
    """A certificate as an appliance stores it: leaf + chain + private key, all PEM text."""

    id: str
    friendly_name: str
    cert_pem: str
    key_pem: str
    chain_pem: str = ""
    imported: bool = False
    names: list[str] = field(default_factory=list)
    fingerprint: str = ""

    def __post_init__(self) -> None:
        cert = x509.load_pem_x509_certificate(self.cert_pem.encode())
        if not self.names:
            self.names = certificate_names(cert)
        if not self.fingerprint:
            self.fingerprint = cert.fingerprint(hashes.SHA256()).hex()

    def matches(self, server_name: str) -> bool:
        return any(name_matches(pattern, server_name) for pattern in self.names)

    def describe(self) -> dict:
        cert = x509.load_pem_x509_certificate(self.cert_pem.encode())
        return {
            "id": self.id,
            "friendly_name": self.friendly_name,
            "subject": cert.subject.rfc4514_string(),
            "issuer": cert.issuer.rfc4514_string(),
            "names": list(self.names),
            "not_before": cert.not_valid_before_utc.isoformat(),
            "not_after": cert.not_valid_after_utc.isoformat(),
            "sha256_fingerprint": self.fingerprint,
            "imported": self.imported,
            "has_chain": bool(self.chain_pem.strip()),
        }


def certificate_names(cert: x509.Certificate) -> list[str]:
    """DNS names and IP addresses from the SAN extension, falling back to the subject CN."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return [attr.value for attr in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    names = list(san.get_values_for_type(x509.DNSName))
    names += [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    return names


def name_matches(pattern: str, server_name: str) -> bool:
    """RFC 6125 style match: exact (case-insensitive) or a single left-most ``*`` label."""
    pattern, server_name = pattern.lower().rstrip("."), server_name.lower().rstrip(".")
    if pattern == server_name:
        return True
    if pattern.startswith("*."):
        head, _, tail = server_name.partition(".")
        return bool(head) and tail == pattern[2:]
    return False


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _cert_pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


class CertificateAuthority:
    def __init__(self, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate) -> None:
        self.key = key
        self.cert = cert
        self.cert_pem = _cert_pem(cert)

    @classmethod
    def create(cls, common_name: str) -> CertificateAuthority:
        key = _new_key()
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                    key_encipherment=False, data_encipherment=False, key_agreement=False,
                    encipher_only=False, decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        return cls(key, cert)

    @classmethod
    def load_or_create(cls, directory: Path, stem: str, common_name: str) -> CertificateAuthority:
        """Reuse the CA of a previous run so clients that pinned ``ca.pem`` keep working."""
        cert_path, key_path = directory / f"{stem}.pem", directory / f"{stem}-key.pem"
        if cert_path.exists() and key_path.exists():
            cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
            if cert.not_valid_after_utc > dt.datetime.now(dt.UTC) + dt.timedelta(days=30):
                return cls(key, cert)
        ca = cls.create(common_name)
        key_path.write_text(_key_pem(ca.key))
        key_path.chmod(0o600)
        cert_path.write_text(ca.cert_pem)
        return ca

    def issue(self, common_name: str, dns_names: list[str], ip_addresses: list[str],
              cert_id: str = "default", friendly_name: str = "") -> Certificate:
        key = _new_key()
        now = dt.datetime.now(dt.UTC)
        sans: list[x509.GeneralName] = [x509.DNSName(n) for n in dns_names]
        sans += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ip_addresses]
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=LEAF_DAYS))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False
            )
            .sign(self.key, hashes.SHA256())
        )
        return Certificate(
            id=cert_id,
            friendly_name=friendly_name or common_name,
            cert_pem=_cert_pem(cert),
            key_pem=_key_pem(key),
            chain_pem=self.cert_pem,
        )


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def load_imported(cert_id: str, friendly_name: str, cert_pem: str, key_pem: str, chain_pem: str) -> Certificate:
    """Validate an imported PEM bundle: the first certificate is the leaf, the key must match it."""
    certs = x509.load_pem_x509_certificates(cert_pem.encode())
    key = serialization.load_pem_private_key(key_pem.encode(), password=None)
    leaf = certs[0]
    if leaf.public_key().public_numbers() != key.public_key().public_numbers():
        raise ValueError("The private key does not match the certificate")
    chain = "".join(_cert_pem(c) for c in certs[1:]) + chain_pem
    return Certificate(
        id=cert_id, friendly_name=friendly_name, cert_pem=_cert_pem(leaf), key_pem=_key_pem(key),
        chain_pem=chain, imported=True,
    )
