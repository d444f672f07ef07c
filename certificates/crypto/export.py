"""Export a certificate, its chain and optionally its private key, mirroring the appliance's Export page.

A private key never leaves in clear text by accident: PKCS#12 with a key always
needs a passphrase, and PEM needs one unless the caller explicitly opts out
(``allow_unencrypted_key=True``, e.g. for a key that goes straight into a
secrets store).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12

from .bundles import ImportedBundle, key_matches_certificate
from .errors import CertificateExportError, ExportPassphraseRequiredError

# PBKDF2 iterations for PKCS#12. High enough to slow offline guessing, low enough
# that an export stays well under a second on a small appliance-sized VM.
DEFAULT_KDF_ROUNDS = 50_000


class ExportFormat(StrEnum):
    PKCS12 = "pkcs12"
    PEM = "pem"


def _encode(passphrase: str | bytes | None) -> bytes | None:
    if passphrase is None or passphrase in ("", b""):
        return None
    return passphrase.encode("utf-8") if isinstance(passphrase, str) else passphrase


def _check_key(certificate: x509.Certificate, private_key: PrivateKeyTypes | None) -> None:
    if private_key is not None and not key_matches_certificate(private_key, certificate):
        raise CertificateExportError("The private key does not belong to this certificate.")


def export_pkcs12(
    certificate: x509.Certificate,
    *,
    chain: Sequence[x509.Certificate] = (),
    private_key: PrivateKeyTypes | None = None,
    passphrase: str | bytes | None = None,
    friendly_name: str | None = None,
    kdf_rounds: int = DEFAULT_KDF_ROUNDS,
) -> bytes:
    """PKCS#12 (.p12/.pfx) bytes. A passphrase is mandatory when ``private_key`` is given."""
    _check_key(certificate, private_key)
    password = _encode(passphrase)
    if private_key is not None and password is None:
        raise ExportPassphraseRequiredError("A passphrase is required to export the private key.")
    if password is None:
        encryption: serialization.KeySerializationEncryption = serialization.NoEncryption()
    else:
        # Explicit modern algorithms: BestAvailableEncryption's choice for PKCS#12
        # can change between releases, and older defaults (3DES/RC2, SHA-1 MAC)
        # are rejected by current OpenSSL and Windows imports.
        encryption = (
            serialization.PrivateFormat.PKCS12.encryption_builder()
            .kdf_rounds(kdf_rounds)
            .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
            .hmac_hash(hashes.SHA256())
            .build(password)
        )
    return pkcs12.serialize_key_and_certificates(
        friendly_name.encode("utf-8") if friendly_name else None,
        private_key,
        certificate,
        list(chain) or None,
        encryption,
    )


def export_pem(
    certificate: x509.Certificate,
    *,
    chain: Sequence[x509.Certificate] = (),
    private_key: PrivateKeyTypes | None = None,
    passphrase: str | bytes | None = None,
    allow_unencrypted_key: bool = False,
) -> bytes:
    """PEM text: the certificate, its chain (leaf -> root), then the key if any.

    The key is written as PKCS#8, encrypted with ``BestAvailableEncryption`` when
    a passphrase is given.
    """
    _check_key(certificate, private_key)
    blocks = [c.public_bytes(serialization.Encoding.PEM) for c in (certificate, *chain)]
    if private_key is not None:
        password = _encode(passphrase)
        if password is None and not allow_unencrypted_key:
            raise ExportPassphraseRequiredError("A passphrase is required to export the private key.")
        encryption = (
            serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
        )
        blocks.append(
            private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
        )
    return b"".join(blocks)


def export_bundle(
    bundle: ImportedBundle,
    export_format: ExportFormat | str,
    *,
    include_key: bool = False,
    include_chain: bool = True,
    passphrase: str | bytes | None = None,
    allow_unencrypted_key: bool = False,
) -> bytes:
    """The appliance's Export page in one call: certificate, optional key, optional chain, passphrase."""
    if include_key and bundle.private_key is None:
        raise CertificateExportError("This certificate has no private key to export.")
    key = bundle.private_key if include_key else None
    chain = bundle.chain if include_chain else ()
    if ExportFormat(export_format) is ExportFormat.PKCS12:
        return export_pkcs12(
            bundle.certificate, chain=chain, private_key=key, passphrase=passphrase,
            friendly_name=bundle.friendly_name,
        )
    return export_pem(
        bundle.certificate, chain=chain, private_key=key, passphrase=passphrase,
        allow_unencrypted_key=allow_unencrypted_key,
    )
