"""Pure certificate logic (no Django): parse, import, export, warn, inspect served certificates.

``generate`` (test/demo certificate factory) is deliberately not re-exported.
"""

from .bundles import (
    DEFAULT_MAX_IMPORT_SIZE,
    DEFAULT_MAX_KDF_ITERATIONS,
    ImportedBundle,
    import_bundle,
    key_matches_certificate,
)
from .errors import (
    CertificateError,
    CertificateExportError,
    CertificateImportError,
    ExportPassphraseRequiredError,
    FileTooLargeError,
    KdfCostError,
    KeyMismatchError,
    MalformedFileError,
    NoCertificateError,
    PassphraseRequiredError,
    ServedCertificateError,
    UnsupportedFormatError,
    WrongPassphraseError,
)
from .export import ExportFormat, export_bundle, export_pem, export_pkcs12
from .names import covers_hostname, dns_name_matches
from .parse import CertificateDetails, parse_certificate, parse_pem
from .served import ServedComparison, compare_served, fetch_served_certificate
from .warnings import CertificateWarning, Severity, WarningCode, evaluate

__all__ = [
    "DEFAULT_MAX_IMPORT_SIZE",
    "DEFAULT_MAX_KDF_ITERATIONS",
    "CertificateDetails",
    "CertificateError",
    "CertificateExportError",
    "CertificateImportError",
    "CertificateWarning",
    "ExportFormat",
    "ExportPassphraseRequiredError",
    "FileTooLargeError",
    "KdfCostError",
    "ImportedBundle",
    "KeyMismatchError",
    "MalformedFileError",
    "NoCertificateError",
    "PassphraseRequiredError",
    "ServedCertificateError",
    "ServedComparison",
    "Severity",
    "UnsupportedFormatError",
    "WarningCode",
    "WrongPassphraseError",
    "compare_served",
    "covers_hostname",
    "dns_name_matches",
    "evaluate",
    "export_bundle",
    "export_pem",
    "export_pkcs12",
    "fetch_served_certificate",
    "import_bundle",
    "key_matches_certificate",
    "parse_certificate",
    "parse_pem",
]
