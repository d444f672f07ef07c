"""Client for the appliance command API (check_health, set_failover_role, ... and ``x_`` extensions).

Framework-free on purpose: it takes an address, credentials and trust settings, returns plain dataclasses
and raises the typed errors of ``errors.py``. The portal maps these onto its models.

Layout: ``transport`` (pycurl easy/multi plumbing, limits, error mapping), ``xml`` (safe namespace-agnostic
parsing), ``parsers`` (answers -> dataclasses), ``tokens`` (OAuth token cache), ``operations`` (each call
written once as a request/response generator), ``client`` (synchronous driver), ``batch`` (multi driver).
"""

from .batch import CallResult, ProbeResult, ProbeTarget, perform_many, probe_many
from .client import ApplianceClient
from .errors import (
    ApplianceAuthError,
    ApplianceError,
    ApplianceProtocolError,
    ApplianceRefused,
    ApplianceTimeout,
    ApplianceTLSError,
    ApplianceUnreachable,
)
from .models import (
    STANDARD_ACTIONS,
    ActionResult,
    ApiInfo,
    ApplianceAddress,
    ApplianceEntry,
    ApplianceListing,
    BackupDownload,
    BackupSettings,
    Capabilities,
    CertificateInfo,
    Credentials,
    FailoverRole,
    HealthReport,
    ImportedCertificate,
    KeyFingerprint,
    PlainHealth,
    RoleChangeResult,
    SyncStatus,
    Timeouts,
)
from .tokens import InMemoryTokenCache, TokenCache
from .trust import TrustSettings, certificate_fingerprint, spki_pin
from .xml import XmlNode

__all__ = [
    "STANDARD_ACTIONS",
    "ActionResult",
    "ApiInfo",
    "ApplianceAddress",
    "ApplianceAuthError",
    "ApplianceClient",
    "ApplianceEntry",
    "ApplianceError",
    "ApplianceListing",
    "ApplianceProtocolError",
    "ApplianceRefused",
    "ApplianceTLSError",
    "ApplianceTimeout",
    "ApplianceUnreachable",
    "BackupDownload",
    "BackupSettings",
    "CallResult",
    "Capabilities",
    "CertificateInfo",
    "Credentials",
    "FailoverRole",
    "HealthReport",
    "ImportedCertificate",
    "InMemoryTokenCache",
    "KeyFingerprint",
    "PlainHealth",
    "ProbeResult",
    "ProbeTarget",
    "RoleChangeResult",
    "SyncStatus",
    "Timeouts",
    "TokenCache",
    "TrustSettings",
    "XmlNode",
    "certificate_fingerprint",
    "perform_many",
    "probe_many",
    "spki_pin",
]
