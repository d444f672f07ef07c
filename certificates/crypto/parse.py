"""Turn an X.509 certificate into plain, storable facts (``CertificateDetails``).

The dataclass holds only str/int/bool/datetime values so the Django layer can
copy it into model fields or JSON without importing ``cryptography``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.x509.oid import NameOID

from .chain import is_self_signed

# Issuing intermediates Let's Encrypt has used (current, retired and announced).
# Matched on the issuer CN when a certificate's issuer organisation was stripped
# or differs, which happens with re-issued or hand-assembled chains.
LETS_ENCRYPT_INTERMEDIATES = frozenset(
    {"R3", "R4", "E1", "E2", "R10", "R11", "R12", "R13", "R14", "E5", "E6", "E7", "E8", "E9"}
)
LETS_ENCRYPT_ORGANISATION = "let's encrypt"


@dataclass(frozen=True)
class CertificateDetails:
    subject: str  # RFC 4514
    common_name: str | None
    issuer: str  # RFC 4514
    issuer_common_name: str | None
    dns_names: tuple[str, ...]
    ip_addresses: tuple[str, ...]
    not_before: datetime  # aware, UTC
    not_after: datetime  # aware, UTC
    serial: str  # lowercase hex, no separators
    fingerprint_sha256: str  # lowercase hex, no separators
    spki_sha256: str  # lowercase hex of SHA-256 over the DER SubjectPublicKeyInfo
    key_type: str  # "RSA", "EC", "Ed25519", "Ed448", "DSA" or "unknown"
    key_size: int | None  # bits; curve size for EC
    key_curve: str | None  # e.g. "secp256r1" for EC keys
    signature_hash: str | None  # e.g. "sha256"; None for Ed25519/Ed448
    is_self_signed: bool
    is_ca: bool
    is_lets_encrypt: bool
    pem: str = field(repr=False)

    @property
    def fingerprint_display(self) -> str:
        """``AB:CD:...`` as browsers and the appliance UI show it."""
        return _colon_hex(self.fingerprint_sha256)

    @property
    def names(self) -> tuple[str, ...]:
        """All subject alternative names we can match against (DNS then IP)."""
        return self.dns_names + self.ip_addresses

    def to_x509(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.pem.encode("ascii"))


def _colon_hex(hex_digest: str) -> str:
    return ":".join(hex_digest[i : i + 2] for i in range(0, len(hex_digest), 2)).upper()


def _first_attribute(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    attributes = name.get_attributes_for_oid(oid)
    if not attributes:
        return None
    value = attributes[0].value
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


def _subject_alt_names(cert: x509.Certificate) -> tuple[tuple[str, ...], tuple[str, ...]]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return (), ()
    dns = tuple(san.get_values_for_type(x509.DNSName))
    ips = tuple(str(ip) for ip in san.get_values_for_type(x509.IPAddress))
    return dns, ips


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def _key_facts(cert: x509.Certificate) -> tuple[str, int | None, str | None]:
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA", key.key_size, None
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "EC", key.curve.key_size, key.curve.name
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519", 256, None
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448", 448, None
    if isinstance(key, dsa.DSAPublicKey):
        return "DSA", key.key_size, None
    return "unknown", None, None


def _signature_hash(cert: x509.Certificate) -> str | None:
    try:
        algorithm = cert.signature_hash_algorithm
    except UnsupportedAlgorithm:  # an OID cryptography does not know: report it, don't fail the parse
        return "unknown"
    return algorithm.name if algorithm is not None else None


def _is_lets_encrypt(cert: x509.Certificate) -> bool:
    organisation = _first_attribute(cert.issuer, NameOID.ORGANIZATION_NAME) or ""
    if LETS_ENCRYPT_ORGANISATION in organisation.lower():  # also catches "(STAGING) Let's Encrypt"
        return True
    return _first_attribute(cert.issuer, NameOID.COMMON_NAME) in LETS_ENCRYPT_INTERMEDIATES


def spki_sha256(cert: x509.Certificate) -> str:
    der = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


def fingerprint_sha256(cert: x509.Certificate) -> str:
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def parse_certificate(cert: x509.Certificate) -> CertificateDetails:
    dns_names, ip_addresses = _subject_alt_names(cert)
    key_type, key_size, key_curve = _key_facts(cert)
    return CertificateDetails(
        subject=cert.subject.rfc4514_string(),
        common_name=_first_attribute(cert.subject, NameOID.COMMON_NAME),
        issuer=cert.issuer.rfc4514_string(),
        issuer_common_name=_first_attribute(cert.issuer, NameOID.COMMON_NAME),
        dns_names=dns_names,
        ip_addresses=ip_addresses,
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        serial=format(cert.serial_number, "x"),
        fingerprint_sha256=fingerprint_sha256(cert),
        spki_sha256=spki_sha256(cert),
        key_type=key_type,
        key_size=key_size,
        key_curve=key_curve,
        signature_hash=_signature_hash(cert),
        is_self_signed=is_self_signed(cert),
        is_ca=_is_ca(cert),
        is_lets_encrypt=_is_lets_encrypt(cert),
        pem=cert.public_bytes(serialization.Encoding.PEM).decode("ascii"),
    )


def parse_pem(pem: str | bytes) -> CertificateDetails:
    """Details of the first certificate in a PEM text (convenience for stored PEM)."""
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    return parse_certificate(x509.load_pem_x509_certificate(data))
