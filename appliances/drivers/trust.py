"""How the driver decides to trust an appliance's TLS certificate.

Two ways, at least one required (both may be combined):

* ``ca_pem``: a CA bundle (PEM text). libcurl verifies the chain *and* that the certificate names the
  host or IP we connect to.
* a pin, in one of two spellings:

  - ``sha256//<base64>``: SHA-256 of the server's SubjectPublicKeyInfo, handed to libcurl's
    ``CURLOPT_PINNEDPUBLICKEY``. Checked inside the handshake, survives certificate renewal with the same
    key, and works with TLS session resumption. **Preferred.**
  - 64 hex digits (colons/spaces allowed): SHA-256 of the DER certificate, what browsers and the appliance
    UI show, so it is the admin-friendly form. libcurl cannot pin that natively, so the transport checks it
    in ``CURLOPT_PREREQFUNCTION``, which runs after the handshake and *before* the request (and therefore
    any credential) is sent. A resumed TLS session carries no certificate to look at, so TLS session reuse
    is switched off for such appliances: each call costs a full handshake.

With only a pin (typical for a factory self-signed certificate) the chain is not validated against a CA:
the pin is the trust anchor, which is stricter than any CA.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization

_HEX_FINGERPRINT = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class TrustSettings:
    ca_pem: str | None = None
    pin: str | None = None

    def __post_init__(self) -> None:
        if not self.ca_pem and not self.pin:
            raise ValueError("TrustSettings needs a CA bundle (ca_pem) or a pin; TLS is never unverified")
        # Validate early so a typo fails when the appliance is saved, not at 3 a.m. during a failover.
        if self.pin and self.spki_pin is None and self.cert_fingerprint is None:
            raise ValueError(
                    "pin must be 'sha256//<base64 SPKI hash>' or a 64-hex-digit certificate SHA-256 fingerprint"
                )

    @property
    def spki_pin(self) -> str | None:
        """The pin in libcurl's ``sha256//`` form, or None if the pin is a certificate fingerprint."""
        if not self.pin or not self.pin.startswith("sha256//"):
            return None
        try:
            raw = base64.b64decode(self.pin.removeprefix("sha256//"), validate=True)
        except ValueError:
            return None
        return self.pin if len(raw) == 32 else None

    @property
    def cert_fingerprint(self) -> str | None:
        """The pin as 64 lowercase hex digits, or None if it is an SPKI pin."""
        if not self.pin or self.pin.startswith("sha256//"):
            return None
        normalised = re.sub(r"[\s:]", "", self.pin).lower()
        return normalised if _HEX_FINGERPRINT.match(normalised) else None


def certificate_fingerprint(cert_pem: str | bytes) -> str:
    """SHA-256 of the DER certificate as 64 lowercase hex digits (what the UI shows)."""
    cert = x509.load_pem_x509_certificate(cert_pem.encode() if isinstance(cert_pem, str) else cert_pem)
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def spki_pin(cert_pem: str | bytes) -> str:
    """``sha256//<base64>`` pin of the certificate's public key, for ``TrustSettings(pin=...)``."""
    cert = x509.load_pem_x509_certificate(cert_pem.encode() if isinstance(cert_pem, str) else cert_pem)
    spki = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return "sha256//" + base64.b64encode(hashlib.sha256(spki).digest()).decode()


def fingerprint_of_certinfo(certinfo: list) -> str | None:
    """Certificate SHA-256 of the leaf in libcurl's ``CURLINFO_CERTINFO`` list, or None if absent."""
    if not certinfo:
        return None
    for key, value in certinfo[0]:
        if key == "Cert":
            return certificate_fingerprint(value)
    return None
