"""Typed errors raised by the certificate logic.

Every error carries a stable machine ``code`` (for the API, for tests and for
translation into form errors) and a human ``message`` written for an operator,
so the Django layer never has to parse exception text.
"""

from __future__ import annotations


class CertificateError(Exception):
    """Base class of every error raised by ``certificates.crypto``."""

    code = "certificate_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- import -----------------------------------------------------------------


class CertificateImportError(CertificateError):
    """The uploaded file could not be turned into a certificate bundle."""

    code = "import_failed"


class FileTooLargeError(CertificateImportError):
    code = "too_large"


class MalformedFileError(CertificateImportError):
    """The file looks like a certificate format but is corrupt or truncated."""

    code = "malformed"


class UnsupportedFormatError(CertificateImportError):
    """The file is readable but is not something we can import (CSR, random bytes...)."""

    code = "unsupported_format"


class NoCertificateError(CertificateImportError):
    code = "no_certificate"


class PassphraseRequiredError(CertificateImportError):
    code = "passphrase_required"


class WrongPassphraseError(CertificateImportError):
    code = "wrong_passphrase"


class KeyMismatchError(CertificateImportError):
    code = "key_mismatch"


class KdfCostError(CertificateImportError):
    """A PKCS#12 file asks for more key-derivation work than the portal spends on one upload."""

    code = "kdf_cost"


# --- export -----------------------------------------------------------------


class CertificateExportError(CertificateError):
    code = "export_failed"


class ExportPassphraseRequiredError(CertificateExportError):
    """Refusing to write a private key to a file without protecting it."""

    code = "passphrase_required"


# --- served certificate -----------------------------------------------------


class ServedCertificateError(CertificateError):
    """The TLS endpoint could not be reached or did not present a certificate."""

    code = "served_unavailable"
