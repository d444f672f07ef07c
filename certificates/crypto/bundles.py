"""Import of certificate files as the appliance exports them (PKCS#12) or as CAs hand them out (PEM).

The format is detected from the content, never from the file name: operators
rename files freely and browsers send whatever extension the OS had. All
decoding is delegated to ``cryptography``; this module only decides which
loader to try and turns their exceptions into typed, operator-readable errors.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12

from .chain import find_leaf, order_chain
from .errors import (
    FileTooLargeError,
    KeyMismatchError,
    MalformedFileError,
    NoCertificateError,
    PassphraseRequiredError,
    UnsupportedFormatError,
    WrongPassphraseError,
)
from .parse import CertificateDetails, parse_certificate
from .pkcs12_cost import check_kdf_cost

DEFAULT_MAX_IMPORT_SIZE = 256 * 1024
# OWASP's PBKDF2-HMAC-SHA256 recommendation: no sane export asks for more (OpenSSL writes 2,048).
DEFAULT_MAX_KDF_ITERATIONS = 600_000

# Only used to *classify* PEM blocks (is there a certificate? a CSR? a key?) so we can
# say what is wrong; decoding stays with cryptography's loaders.
_PEM_BEGIN = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----")
_PEM_END = re.compile(rb"-----END ([A-Z0-9 ]+)-----")
_CERTIFICATE_LABELS = {b"CERTIFICATE", b"X509 CERTIFICATE", b"TRUSTED CERTIFICATE"}
_CSR_LABELS = {b"CERTIFICATE REQUEST", b"NEW CERTIFICATE REQUEST"}
_DER_SEQUENCE_TAG = 0x30  # every DER certificate, key and PKCS#12 file starts with a SEQUENCE


@dataclass(frozen=True)
class ImportedBundle:
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]  # leaf's issuers first, then any unrelated extras
    private_key: PrivateKeyTypes | None
    friendly_name: str | None
    source_format: str  # "pkcs12", "pem" or "der"

    @property
    def details(self) -> CertificateDetails:
        return parse_certificate(self.certificate)

    @property
    def chain_details(self) -> tuple[CertificateDetails, ...]:
        return tuple(parse_certificate(c) for c in self.chain)


def key_matches_certificate(key: PrivateKeyTypes, cert: x509.Certificate) -> bool:
    """Compare public halves as DER SubjectPublicKeyInfo: works for every key type."""
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    return key.public_key().public_bytes(*spki) == cert.public_key().public_bytes(*spki)


def import_bundle(
    data: bytes,
    passphrase: str | bytes | None = None,
    *,
    max_size: int = DEFAULT_MAX_IMPORT_SIZE,
    max_kdf_iterations: int = DEFAULT_MAX_KDF_ITERATIONS,
) -> ImportedBundle:
    """Read a PKCS#12, PEM or DER certificate file.

    ``passphrase`` may be ``None`` or empty when the file is not protected; a
    passphrase given for an unprotected file is ignored rather than rejected,
    because the upload form always has the field.
    """
    if len(data) > max_size:
        raise FileTooLargeError(
            f"The file is {len(data) // 1024} KiB; certificate files larger than {max_size // 1024} KiB are refused."
        )
    if not data.strip():
        raise NoCertificateError("The file is empty.")
    password = _normalise_passphrase(passphrase)
    if b"-----BEGIN " in data:
        return _import_pem(data, password)
    return _import_binary(data, password, max_kdf_iterations)


def _normalise_passphrase(passphrase: str | bytes | None) -> bytes | None:
    if passphrase is None or passphrase in ("", b""):
        return None
    return passphrase.encode("utf-8") if isinstance(passphrase, str) else passphrase


def _assemble(
    certificates: list[x509.Certificate],
    key: PrivateKeyTypes | None,
    *,
    friendly_name: str | None,
    source_format: str,
    leaf: x509.Certificate | None = None,
) -> ImportedBundle:
    unique = list(dict.fromkeys(certificates))  # bundles often repeat the leaf or an intermediate
    if not unique:
        raise NoCertificateError("The file does not contain any certificate.")
    if key is not None:
        # The key decides which certificate is the server certificate: that is the
        # one the appliance will serve, whatever order the file lists them in.
        leaf = next((c for c in unique if key_matches_certificate(key, c)), None)
        if leaf is None:
            raise KeyMismatchError("The private key in the file does not belong to any certificate in it.")
    elif leaf is None:
        leaf = find_leaf(unique)
    return ImportedBundle(
        certificate=leaf,
        chain=tuple(order_chain(leaf, [c for c in unique if c != leaf])),
        private_key=key,
        friendly_name=friendly_name,
        source_format=source_format,
    )


# --- PEM ----------------------------------------------------------------------


def _import_pem(data: bytes, password: bytes | None) -> ImportedBundle:
    labels = _PEM_BEGIN.findall(data)
    if labels != _PEM_END.findall(data):
        raise MalformedFileError("The PEM file is truncated or damaged: a block has no matching END line.")
    key_labels = [label for label in labels if label.endswith(b"PRIVATE KEY")]
    if not any(label in _CERTIFICATE_LABELS for label in labels):
        if any(label in _CSR_LABELS for label in labels):
            raise UnsupportedFormatError(
                "This is a certificate signing request (CSR), not a certificate. "
                "Send it to your certificate authority and import the certificate it returns."
            )
        if key_labels:
            raise NoCertificateError("The file contains a private key but no certificate.")
        kinds = ", ".join(sorted({label.decode() for label in labels}))
        raise UnsupportedFormatError(f"The PEM file contains no certificate (found: {kinds}).")
    if len(key_labels) > 1:
        raise UnsupportedFormatError("The file contains more than one private key; import one certificate at a time.")
    try:
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        raise MalformedFileError("A certificate in the PEM file is damaged and cannot be read.") from exc
    key = _load_pem_key(data, password) if key_labels else None
    return _assemble(certificates, key, friendly_name=None, source_format="pem")


def _load_pem_key(data: bytes, password: bytes | None) -> PrivateKeyTypes:
    try:
        return serialization.load_pem_private_key(data, password)
    except TypeError as exc:
        # cryptography signals "wrong kind of password" with TypeError: either a
        # passphrase is missing, or one was given for an unencrypted key.
        if password is None:
            raise PassphraseRequiredError(
                "The private key is protected by a passphrase; enter it to import the file."
            ) from exc
        return _load_pem_key(data, None)
    except ValueError as exc:
        if password is not None:
            raise WrongPassphraseError("The passphrase is wrong, or the encrypted private key is damaged.") from exc
        raise MalformedFileError("The private key in the PEM file is damaged or of an unsupported type.") from exc


# --- binary (DER certificate or PKCS#12) --------------------------------------


def _import_binary(data: bytes, password: bytes | None, max_kdf_iterations: int) -> ImportedBundle:
    try:
        certificate = x509.load_der_x509_certificate(data)
    except ValueError:
        pass
    else:
        return _assemble([certificate], None, friendly_name=None, source_format="der")

    check_kdf_cost(data, max_kdf_iterations)
    bundle = _try_pkcs12(data, password)
    if bundle is not None:
        return bundle
    _reject_other_der(data)
    if data[0] == _DER_SEQUENCE_TAG:
        raise MalformedFileError(
            "The file looks like a binary certificate file (PKCS#12/PFX or DER) but cannot be read; "
            "it is probably truncated or damaged. Export it again."
        )
    raise UnsupportedFormatError(
        "The file is not a certificate file. Upload a PKCS#12 (.p12/.pfx) file or a PEM bundle."
    )


def _try_pkcs12(data: bytes, password: bytes | None) -> ImportedBundle | None:
    """The bundle, or None when the data is not PKCS#12 at all."""
    # An unprotected PKCS#12 may have been written with either "no password" or
    # the empty password; both mean "no passphrase" to an operator. They are also
    # tried after a given passphrase, since the upload form always offers the field
    # and an unprotected file must not fail with "wrong passphrase".
    attempts = list(dict.fromkeys([password, None, b""]))
    for attempt in attempts:
        try:
            loaded = pkcs12.load_pkcs12(data, attempt)
        except ValueError as exc:
            # cryptography distinguishes "parsed, but the MAC/decryption failed"
            # ("Invalid password or PKCS12 data") from "not PKCS#12" ("Could not
            # deserialize") only by message; the tests pin this behaviour.
            if "password" not in str(exc).lower():
                return None
            continue
        return _from_pkcs12(loaded)
    if password is None:
        raise PassphraseRequiredError("The file is protected by a passphrase; enter it to import the file.")
    raise WrongPassphraseError("The passphrase is wrong for this file.")


def _from_pkcs12(loaded: pkcs12.PKCS12KeyAndCertificates) -> ImportedBundle:
    main = loaded.cert.certificate if loaded.cert is not None else None
    extras = [entry.certificate for entry in loaded.additional_certs]
    name = loaded.cert.friendly_name if loaded.cert is not None else None
    return _assemble(
        ([main] if main is not None else []) + extras,
        loaded.key,
        friendly_name=name.decode("utf-8", "replace") if name else None,
        source_format="pkcs12",
        leaf=main,
    )


def _reject_other_der(data: bytes) -> None:
    """Name the DER object when it is a known non-certificate, so the error says what was uploaded."""
    if _parses(x509.load_der_x509_csr, data):
        raise UnsupportedFormatError("This is a certificate signing request (CSR), not a certificate.")
    if _parses(x509.load_der_x509_crl, data):
        raise UnsupportedFormatError("This is a certificate revocation list, not a certificate.")
    if _parses(serialization.load_der_public_key, data):
        raise UnsupportedFormatError("This is a public key, not a certificate.")
    if _is_der_private_key(data):
        raise NoCertificateError("The file contains a private key but no certificate.")


def _parses(loader: Callable[[bytes], object], data: bytes) -> bool:
    try:
        loader(data)
    except ValueError:
        return False
    return True


def _is_der_private_key(data: bytes) -> bool:
    try:
        serialization.load_der_private_key(data, None)
    except TypeError:
        return True  # an encrypted key: still a key, we just cannot open it without its passphrase
    except ValueError:
        return False
    return True
