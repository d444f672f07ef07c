"""Synchronous appliance client: one easy handle per request (the vendor wants a connection per call)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, BinaryIO, TypeVar

from . import parsers
from .errors import ApplianceError
from .models import (
    ActionResult,
    ApiInfo,
    ApplianceAddress,
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
from .operations import Operation, Operations, run_sync
from .tokens import TokenCache, default_token_cache
from .transport import MAX_BACKUP_BYTES, AddressGuard, Transport
from .trust import TrustSettings
from .xml import XmlNode

T = TypeVar("T")

EXTENSION_PREFIX = "x_"


def annotate(error: ApplianceError, address: ApplianceAddress, action: str) -> ApplianceError:
    """Parsers raise without context; fill in which appliance and which call before it reaches a human."""
    error.address = error.address or str(address)
    error.action = error.action or action
    return error


class ApplianceClient:
    """Talks to one appliance with one API account.

    ``trust`` is mandatory: TLS is always verified (CA bundle + name, or a pin). ``credentials`` may be
    None for the unauthenticated ``plain_check_health`` probe only. Thread-safe: no per-call state is kept
    on the instance; tokens live in the (thread-safe, pluggable) ``token_cache``.
    """

    def __init__(
        self,
        address: ApplianceAddress,
        credentials: Credentials | None,
        trust: TrustSettings,
        *,
        timeouts: Timeouts | None = None,
        token_cache: TokenCache | None = None,
        share_tls_sessions: bool = True,
        address_guard: AddressGuard | None = None,
        source_address: str | None = None,
    ) -> None:
        self.address = address
        self.transport = Transport(address, trust, timeouts, share_tls_sessions=share_tls_sessions,
                                   address_guard=address_guard, source_address=source_address)
        # "is None", not "or": an empty cache is falsy (__len__), and len() walks every entry.
        cache = token_cache if token_cache is not None else default_token_cache()
        self.operations = Operations(address, credentials, cache)

    def _run(self, op: Operation[T], action: str) -> T:
        try:
            return run_sync(op, self.transport.perform)
        except ApplianceError as error:
            annotate(error, self.address, action)
            raise

    # -- standard actions -------------------------------------------------------------------------
    def check_health(self) -> HealthReport:
        return self._run(self.operations.check_health(), "check_health")

    def plain_check_health(self) -> PlainHealth:
        return self._run(self.operations.plain_check_health(), "plain check_health")

    def get_api_info(self) -> ApiInfo:
        return self._run(self.operations.get_api_info(), "get_api_info")

    def get_appliances(self) -> ApplianceListing:
        return self._run(self.operations.get_appliances(), "get_appliances")

    def set_failover_role(self, role: FailoverRole | str, *, data_sync_first: bool = False,
                          force: bool = False) -> RoleChangeResult:
        op = self.operations.set_failover_role(role, data_sync_first=data_sync_first, force=force)
        return self._run(op, "set_failover_role")

    def download_backup(self, sink: BinaryIO, *, max_bytes: int = MAX_BACKUP_BYTES,
                        timeout: float | None = 600.0, password: str = "",
                        include_logged_data: bool = True) -> BackupDownload:
        """Stream the /login configuration backup into ``sink`` (aborted beyond ``max_bytes``)."""
        op = self.operations.download_backup(sink, max_bytes, timeout, password=password,
                                             include_logged_data=include_logged_data)
        return self._run(op, "backup")

    # -- extensions -------------------------------------------------------------------------------
    def call_extension(self, action: str, /, **params: Any) -> XmlNode:
        """Call an ``x_`` extension action and return its parsed answer (dict-like ``XmlNode``).

        Parameters are sent form-encoded in a POST (bools as 1/0, lists comma-joined).
        """
        if not action.startswith(EXTENSION_PREFIX):
            raise ValueError(f"extension actions start with {EXTENSION_PREFIX!r}; got {action!r}")
        encoded = {k: _encode_param(v) for k, v in params.items() if v is not None}
        return self._run(self.operations.command(action, encoded, post=True), action)

    def get_capabilities(self) -> Capabilities:
        """Which actions this appliance supports (``Operations.get_capabilities``)."""
        return self._run(self.operations.get_capabilities(), "x_get_capabilities")

    def _extension(self, action: str, parse: Callable[[XmlNode], T], **params: Any) -> T:
        node = self.call_extension(action, **params)
        try:
            return parse(node)
        except ApplianceError as error:
            annotate(error, self.address, action)
            raise

    def establish_relationship(self, *, backup_host: str, reverse_host: str, backup_port: int | None = None,
                               reverse_port: int | None = None, network_method: str = "shared_ip") -> ActionResult:
        """Run on the intended primary (like the /login "Establish Relationship" button)."""
        return self._extension("x_establish_relationship", parsers.parse_action_result, backup_host=backup_host,
                               backup_port=backup_port, reverse_host=reverse_host, reverse_port=reverse_port,
                               network_method=network_method)

    def break_relationship(self) -> ActionResult:
        return self._extension("x_break_relationship", parsers.parse_action_result)

    def sync_now(self) -> ActionResult:
        """Start a data sync (asynchronous: poll ``get_sync_status``)."""
        return self._extension("x_sync_now", parsers.parse_action_result)

    def get_sync_status(self) -> SyncStatus:
        return self._extension("x_get_sync_status", parsers.parse_sync_status)

    def get_backup_settings(self) -> BackupSettings:
        return self._run(self.operations.get_backup_settings(), "x_get_backup_settings")

    def set_backup_settings(self, *, enable_backup_operations: bool | None = None,
                            automatic_failover: bool | None = None, primary_timeout: int | None = None,
                            sync_interval: int | None = None, bandwidth_limit: int | None = None,
                            connectivity_test_ips: list[str] | None = None) -> BackupSettings:
        """Change only the settings given (None = leave as is); returns the settings now in force."""
        return self._extension(
            "x_set_backup_settings", parsers.parse_backup_settings,
            enable_backup_operations=enable_backup_operations, automatic_failover=automatic_failover,
            primary_timeout=primary_timeout, sync_interval=sync_interval, bandwidth_limit=bandwidth_limit,
            connectivity_test_ips=connectivity_test_ips,
        )

    def set_shared_ips(self, ips: list[str]) -> ActionResult:
        return self._extension("x_set_shared_ips", parsers.parse_action_result, ips=ips)

    def get_key_fingerprint(self) -> KeyFingerprint:
        return self._extension("x_get_key_fingerprint", parsers.parse_key_fingerprint)

    def get_certificates(self) -> list[CertificateInfo]:
        return self._extension("x_get_certificates", parsers.parse_certificates)

    def import_certificate(self, *, certificate: str, private_key: str, chain: str | None = None,
                           friendly_name: str | None = None, make_default: bool = False) -> ImportedCertificate:
        """Import PEM certificate + key (+ chain). Sent in a POST body, never in the URL."""
        return self._extension("x_import_certificate", parsers.parse_imported_certificate,
                               certificate=certificate, private_key=private_key, chain=chain,
                               friendly_name=friendly_name, make_default=make_default)

    def set_default_certificate(self, certificate_id: str) -> ActionResult:
        return self._extension("x_set_default_certificate", parsers.parse_action_result, id=certificate_id)


def _encode_param(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, list | tuple | set | frozenset):
        return ",".join(str(v) for v in value)
    return str(value)
