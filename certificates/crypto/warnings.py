"""Warnings about a certificate *in its context*: where it is installed and what it is used for.

A certificate that is perfectly fine on a standalone appliance can break a
failover pair (Let's Encrypt), and a self-signed certificate is tolerable
except as the default certificate served to clients without SNI. So the checks
take the deployment context as arguments, and return data (code, severity,
message) rather than raising: the UI lists every problem at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from cryptography import x509

from .chain import build_path, reaches_root
from .names import covers_hostname
from .parse import CertificateDetails

MIN_RSA_BITS = 2048
MIN_EC_BITS = 256
WEAK_SIGNATURE_HASHES = frozenset({"sha1", "md5"})


class Severity(StrEnum):
    ERROR = "error"  # clients will fail, or the appliance will refuse the configuration
    WARNING = "warning"  # works today, but will fail or is risky
    INFO = "info"


class WarningCode(StrEnum):
    EXPIRED = "expired"
    EXPIRING = "expiring"
    NOT_YET_VALID = "not_yet_valid"
    SELF_SIGNED = "self_signed"
    NO_SAN = "no_san"
    NAME_MISMATCH = "name_mismatch"
    WEAK_KEY = "weak_key"
    INCOMPLETE_CHAIN = "incomplete_chain"
    LETS_ENCRYPT_IN_PAIR = "lets_encrypt_in_pair"
    DEFAULT_SELF_SIGNED = "default_self_signed"
    DEFAULT_FACTORY = "default_factory"


@dataclass(frozen=True)
class CertificateWarning:
    code: WarningCode
    severity: Severity
    message: str


def evaluate(
    details: CertificateDetails,
    *,
    chain: Sequence[CertificateDetails | x509.Certificate] = (),
    site_hostname: str | None = None,
    appliance_hostname: str | None = None,
    in_failover_pair: bool = False,
    is_default: bool = False,
    is_factory: bool = False,
    now: datetime | None = None,
    expiry_threshold_days: int = 30,
) -> list[CertificateWarning]:
    """Every warning that applies, in a stable order (validity, trust, names, strength, role)."""
    if now is None:
        now = datetime.now(UTC)
    elif now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return [
        *_validity(details, now, expiry_threshold_days),
        *_trust(details, chain),
        *_names(details, site_hostname, appliance_hostname),
        *_strength(details),
        *_role(details, in_failover_pair=in_failover_pair, is_default=is_default, is_factory=is_factory),
    ]


def _validity(details: CertificateDetails, now: datetime, threshold_days: int) -> list[CertificateWarning]:
    if now > details.not_after:
        return [_warn(WarningCode.EXPIRED, Severity.ERROR,
                      f"The certificate expired on {details.not_after:%Y-%m-%d}. Clients will refuse to connect.")]
    if now < details.not_before:
        return [_warn(WarningCode.NOT_YET_VALID, Severity.ERROR,
                      f"The certificate is not valid until {details.not_before:%Y-%m-%d %H:%M} UTC. "
                      "Check the appliance clock, or wait before installing it.")]
    if details.not_after - now <= timedelta(days=threshold_days):
        days = (details.not_after - now).days
        return [_warn(WarningCode.EXPIRING, Severity.WARNING,
                      f"The certificate expires on {details.not_after:%Y-%m-%d} (in {days} days). Renew it soon.")]
    return []


def _trust(
    details: CertificateDetails, chain: Sequence[CertificateDetails | x509.Certificate]
) -> list[CertificateWarning]:
    if details.is_self_signed:
        return [_warn(WarningCode.SELF_SIGNED, Severity.WARNING,
                      "The certificate is self-signed. Browsers show an untrusted-site warning and some "
                      "clients refuse to connect; use a certificate signed by a certificate authority.")]
    leaf = details.to_x509()
    issuers = [c.to_x509() if isinstance(c, CertificateDetails) else c for c in chain]
    if reaches_root(leaf, issuers):
        return []
    path = build_path(leaf, issuers)
    missing = (path[-1] if path else leaf).issuer.rfc4514_string()
    return [_warn(WarningCode.INCOMPLETE_CHAIN, Severity.WARNING,
                  f"The certificate chain is incomplete: the issuer certificate \"{missing}\" is missing. "
                  "Import the full chain up to the root certificate.")]


def _names(
    details: CertificateDetails, site_hostname: str | None, appliance_hostname: str | None
) -> list[CertificateWarning]:
    found: list[CertificateWarning] = []
    if not details.names:
        found.append(_warn(WarningCode.NO_SAN, Severity.WARNING,
                           "The certificate has no subject alternative names (no supported names). "
                           "Current browsers and clients ignore the common name and will reject it."))
    hostnames = [h for h in (site_hostname, appliance_hostname) if h]
    if hostnames and not any(covers_hostname(details, h) for h in hostnames):
        covered = ", ".join(details.names) or details.common_name or "no names"
        wanted = " or ".join(hostnames)
        found.append(_warn(WarningCode.NAME_MISMATCH, Severity.ERROR,
                           f"The certificate does not cover {wanted} (it covers: {covered}). "
                           "Clients connecting by that name will reject it."))
    return found


def _strength(details: CertificateDetails) -> list[CertificateWarning]:
    reasons = []
    if details.key_type in ("RSA", "DSA") and (details.key_size or 0) < MIN_RSA_BITS:
        reasons.append(f"{details.key_type} key of {details.key_size} bits (at least {MIN_RSA_BITS} needed)")
    if details.key_type == "EC" and (details.key_size or 0) < MIN_EC_BITS:
        reasons.append(f"EC key of {details.key_size} bits (at least {MIN_EC_BITS} needed)")
    if details.signature_hash in WEAK_SIGNATURE_HASHES:
        reasons.append(f"{details.signature_hash.upper()} signature")
    if not reasons:
        return []
    return [_warn(WarningCode.WEAK_KEY, Severity.WARNING,
                  f"The certificate uses weak cryptography: {'; '.join(reasons)}. Replace it.")]


def _role(
    details: CertificateDetails, *, in_failover_pair: bool, is_default: bool, is_factory: bool
) -> list[CertificateWarning]:
    found: list[CertificateWarning] = []
    if in_failover_pair and details.is_lets_encrypt:
        found.append(_warn(WarningCode.LETS_ENCRYPT_IN_PAIR, Severity.WARNING,
                           "This is a Let's Encrypt certificate on a failover pair. Renewal only works on the "
                           "appliance the DNS name points to, so the backup's copy will go stale. "
                           "Use a certificate from another certificate authority."))
    if is_default and is_factory:
        found.append(_warn(WarningCode.DEFAULT_FACTORY, Severity.ERROR,
                           "The factory certificate is set as the default certificate. The appliance does not "
                           "allow this; choose a certificate signed by a certificate authority."))
    elif is_default and details.is_self_signed:
        found.append(_warn(WarningCode.DEFAULT_SELF_SIGNED, Severity.ERROR,
                           "A self-signed certificate is set as the default certificate. The appliance does not "
                           "allow this; choose a certificate signed by a certificate authority."))
    return found


def _warn(code: WarningCode, severity: Severity, message: str) -> CertificateWarning:
    return CertificateWarning(code=code, severity=severity, message=message)
