"""Plain dataclasses the driver returns. No Django, no ORM: the portal maps them onto its models."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

#: Actions every appliance offers through ``/api/command`` (reference notes §2-§4).
STANDARD_ACTIONS: frozenset[str] = frozenset(
    {"check_health", "set_failover_role", "get_api_info", "get_appliances"}
)


class FailoverRole(enum.StrEnum):
    NONE = "none"
    PRIMARY = "primary"
    BACKUP = "backup"


@dataclass(frozen=True, slots=True)
class ApplianceAddress:
    """Where an appliance listens. ``host`` may be a DNS name or an IP literal (IPv6 without brackets)."""

    host: str
    port: int = 443

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"https://{host}:{self.port}"

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class Credentials:
    """OAuth2 client-credentials of one API account."""

    client_id: str
    client_secret: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds. ``connect`` covers TCP + TLS handshake, ``total`` the whole request."""

    connect: float = 5.0
    total: float = 30.0


@dataclass(frozen=True, slots=True)
class HealthReport:
    appliance_id: str
    hostname: str
    version: str
    build: str
    success: bool
    error_message: str | None
    failover_role: FailoverRole
    enabled_shared_ips: list[str]
    last_data_sync_at: datetime | None
    last_data_sync_status: str | None
    latency_ms: float


@dataclass(frozen=True, slots=True)
class ApiInfo:
    api_version: str
    permissions: dict[str, str]
    timestamp: datetime | None
    company_name: str | None = None

    @property
    def command_access(self) -> str:
        """``full_access``, ``read_only`` or ``deny`` (``deny`` when not reported)."""
        return self.permissions.get("perm_command", "deny")

    @property
    def can_backup(self) -> bool:
        return self.permissions.get("perm_backup") == "1"


@dataclass(frozen=True, slots=True)
class ApplianceEntry:
    """One ``<appliance>`` of ``get_appliances``."""

    appliance_id: str
    name: str
    public_hostname: str
    cluster_role: str
    failover_role: FailoverRole
    accepting_connections: bool
    timezone_offset: int | None


@dataclass(frozen=True, slots=True)
class ApplianceListing:
    appliances: list[ApplianceEntry]


@dataclass(frozen=True, slots=True)
class RoleChangeResult:
    requested_role: FailoverRole
    message: str
    #: True when the appliance only *started* a data sync; the swap happens later (poll check_health).
    pending_data_sync: bool


@dataclass(frozen=True, slots=True)
class PlainHealth:
    """Result of the unauthenticated ``GET /check_health`` probe (HTTP 200 pass / 500 fail)."""

    passed: bool
    status_code: int
    message: str


@dataclass(frozen=True, slots=True)
class BackupDownload:
    bytes_written: int
    content_type: str
    filename: str | None


@dataclass(frozen=True, slots=True)
class Capabilities:
    """Which ``/api/command`` actions the appliance supports.

    ``extensions_reported`` is False when the appliance does not answer ``x_get_capabilities``: we then
    assume the standard actions only.
    """

    actions: frozenset[str]
    extensions_reported: bool
    details: Mapping[str, str] = field(default_factory=dict)

    def supports(self, action: str) -> bool:
        return action in self.actions


# -- extension actions (x_...) ---------------------------------------------------------------------
# These mirror the simulator's extension answers (simulator/api.py). Unknown leaves are kept in
# ``extra`` so a newer appliance adding fields does not break parsing.


@dataclass(frozen=True, slots=True)
class ActionResult:
    """Answer of an extension action that only reports ``<success>``."""

    message: str


@dataclass(frozen=True, slots=True)
class BackupSettings:
    enable_backup_operations: bool
    automatic_failover: bool
    primary_timeout: int
    sync_interval: int
    bandwidth_limit: int
    connectivity_test_ips: list[str]
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SyncStatus:
    failover_role: FailoverRole
    peer_hostname: str | None
    peer_address: str | None
    peer_reachable: bool | None
    network_method: str | None
    sync_in_progress: bool
    operation_in_progress: str
    users_connected: int | None
    last_data_sync_at: datetime | None
    last_data_sync_status: str | None
    history: list[dict[str, str]]


@dataclass(frozen=True, slots=True)
class CertificateInfo:
    id: str
    friendly_name: str
    names: list[str]
    sha256_fingerprint: str
    is_default: bool
    not_after: datetime | None
    pem: str
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ImportedCertificate:
    id: str
    sha256_fingerprint: str
    message: str


@dataclass(frozen=True, slots=True)
class KeyFingerprint:
    """Fingerprint of the inter-appliance pre-shared key (both members of a pair must match)."""

    algorithm: str
    fingerprint: str
