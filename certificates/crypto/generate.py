"""Build test and demo certificates: CAs, CA-signed leaves, self-signed, expired, weak, Let's Encrypt look-alikes.

Not used in production paths. Results are deterministic given ``now`` and
``serial`` (only the keys are random), which is what tests need to assert on
dates, names and serials.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_CURVES = {192: ec.SECP192R1, 256: ec.SECP256R1, 384: ec.SECP384R1, 521: ec.SECP521R1}


@dataclass(frozen=True)
class Issued:
    certificate: x509.Certificate
    key: CertificateIssuerPrivateKeyTypes

    @property
    def cert_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )


def new_key(kind: str = "ec", size: int | None = None) -> CertificateIssuerPrivateKeyTypes:
    """``"ec"`` (P-256 by default; 192 gives a weak curve), ``"rsa"`` (2048 by default; 1024 is weak) or ``"ed25519"``."""
    if kind == "ec":
        return ec.generate_private_key(_CURVES[size or 256]())
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=size or 2048)
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    raise ValueError(f"unknown key kind {kind!r}")


def _name(common_name: str, organisation: str | None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organisation:
        attributes.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation))
    return x509.Name(attributes)


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(UTC)).replace(microsecond=0)


def _sign_hash(key: CertificateIssuerPrivateKeyTypes) -> hashes.HashAlgorithm | None:
    # Ed25519/Ed448 hash internally and must be signed with algorithm=None.
    return None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()


def make_certificate(
    common_name: str,
    *,
    issuer: Issued | None = None,
    key: CertificateIssuerPrivateKeyTypes | None = None,
    organisation: str | None = None,
    dns_names: Sequence[str] = (),
    ip_addresses: Sequence[str] = (),
    is_ca: bool = False,
    now: datetime | None = None,
    valid_from: timedelta = timedelta(days=-1),
    valid_for: timedelta = timedelta(days=365),
    serial: int | None = None,
) -> Issued:
    """The one builder every helper below delegates to. ``issuer=None`` means self-signed.

    Validity is ``[now + valid_from, now + valid_from + valid_for]``, so a negative
    ``valid_from`` larger than ``valid_for`` yields an expired certificate.
    """
    key = key or new_key()
    start = _now(now) + valid_from
    subject = _name(common_name, organisation)
    signer_key = issuer.key if issuer else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.certificate.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(serial if serial is not None else x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + valid_for)
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False
        )
    sans: list[x509.GeneralName] = [x509.DNSName(n) for n in dns_names]
    sans += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ip_addresses]
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    if not is_ca:
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    return Issued(builder.sign(signer_key, _sign_hash(signer_key)), key)


def make_ca(
    common_name: str = "Failover Portal Test Root CA",
    *,
    issuer: Issued | None = None,
    organisation: str | None = "Failover Portal Tests",
    now: datetime | None = None,
    key: CertificateIssuerPrivateKeyTypes | None = None,
) -> Issued:
    """A root CA, or an intermediate when ``issuer`` is given."""
    return make_certificate(
        common_name, issuer=issuer, key=key, organisation=organisation, is_ca=True, now=now,
        valid_for=timedelta(days=3650),
    )


def make_leaf(
    issuer: Issued,
    common_name: str,
    *,
    dns_names: Sequence[str] | None = None,
    ip_addresses: Sequence[str] = (),
    key: CertificateIssuerPrivateKeyTypes | None = None,
    now: datetime | None = None,
    valid_from: timedelta = timedelta(days=-1),
    valid_for: timedelta = timedelta(days=365),
    serial: int | None = None,
) -> Issued:
    """A server certificate signed by ``issuer``; SANs default to the common name."""
    return make_certificate(
        common_name, issuer=issuer, key=key,
        dns_names=[common_name] if dns_names is None else dns_names, ip_addresses=ip_addresses,
        now=now, valid_from=valid_from, valid_for=valid_for, serial=serial,
    )


def make_self_signed(
    common_name: str,
    *,
    dns_names: Sequence[str] | None = None,
    key: CertificateIssuerPrivateKeyTypes | None = None,
    now: datetime | None = None,
    valid_for: timedelta = timedelta(days=365),
) -> Issued:
    return make_certificate(
        common_name, key=key, dns_names=[common_name] if dns_names is None else dns_names,
        now=now, valid_for=valid_for,
    )


def make_expired(issuer: Issued, common_name: str, *, now: datetime | None = None) -> Issued:
    """Valid for 90 days, ended 10 days before ``now``."""
    return make_leaf(issuer, common_name, now=now, valid_from=timedelta(days=-100), valid_for=timedelta(days=90))


def make_lets_encrypt_chain(now: datetime | None = None) -> tuple[Issued, Issued]:
    """(root, intermediate) named like Let's Encrypt's ISRG Root X1 / R11. Look-alikes: not trusted anywhere."""
    root = make_ca("ISRG Root X1", organisation="Internet Security Research Group", now=now)
    intermediate = make_ca("R11", issuer=root, organisation="Let's Encrypt", now=now)
    return root, intermediate
