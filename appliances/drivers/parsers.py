"""Turn checked appliance answers into dataclasses. Pure functions: bytes/XmlNode in, models out.

Parsers are strict about what the reference notes call "always present" and lenient about optional
elements (missing ``enabled_shared_ips`` / ``last_data_sync_*`` means "failover not configured").
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from .errors import ApplianceAuthError, ApplianceProtocolError, ApplianceRefused
from .models import (
    STANDARD_ACTIONS,
    ActionResult,
    ApiInfo,
    ApplianceEntry,
    ApplianceListing,
    BackupSettings,
    Capabilities,
    CertificateInfo,
    FailoverRole,
    HealthReport,
    ImportedCertificate,
    KeyFingerprint,
    RoleChangeResult,
    SyncStatus,
)
from .xml import XmlNode

_VERSION_BUILD = re.compile(r"^\s*(?P<version>[^\s(]+)\s*(?:\((?P<build>[^)]*)\))?\s*$")
# The vendor says a "Document Not Found"-style error usually means the account lacks a permission.
_PERMISSION_HINTS = re.compile(r"permission|not allowed|access denied|forbidden|document not found", re.I)


@dataclass(frozen=True)
class Token:
    access_token: str
    expires_in: float


def required(node: XmlNode, name: str) -> str:
    value = node.text_of(name)
    if value is None:
        raise ApplianceProtocolError(f"<{node.tag}> answer lacks the required <{name}> element")
    return value


def raise_for_error(root: XmlNode) -> None:
    """The command API reports failures as an ``<error>`` root or child (HTTP status usually 200)."""
    message = root.text if root.tag == "error" else root.text_of("error")
    if message is None:
        return
    message = message or "appliance reported an error without a message"
    if _PERMISSION_HINTS.search(message):
        raise ApplianceAuthError(f"permission denied: {message}")
    raise ApplianceRefused(message)


def split_version(text: str) -> tuple[str, str]:
    """``"24.3.1 (41234-0123abcd)"`` -> ``("24.3.1", "41234-0123abcd")``; build is "" if absent."""
    match = _VERSION_BUILD.match(text)
    if not match:
        raise ApplianceProtocolError(f"unrecognised version string {text!r}")
    return match["version"], match["build"] or ""


def parse_role(text: str) -> FailoverRole:
    try:
        return FailoverRole(text.strip().lower())
    except ValueError:
        raise ApplianceProtocolError(f"unknown failover role {text!r}") from None


def parse_flag(text: str, what: str) -> bool:
    if text.strip() in ("1", "0"):
        return text.strip() == "1"
    raise ApplianceProtocolError(f"<{what}> should be 1 or 0, got {text!r}")


def parse_timestamp(epoch: str | None, iso: str | None = None) -> datetime | None:
    """Prefer the UNIX epoch (unambiguous UTC); fall back to the ISO 8601 text."""
    try:
        if epoch:
            return datetime.fromtimestamp(int(epoch), tz=UTC)
        if iso:
            parsed = datetime.fromisoformat(iso.replace("Z", "+00:00"))
            return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        raise ApplianceProtocolError(f"unparsable timestamp {epoch or iso!r}") from None
    return None


def parse_timestamp_text(text: str | None) -> datetime | None:
    """A timestamp element that may hold either epoch seconds or ISO 8601."""
    if text and text.isdigit():
        return parse_timestamp(text)
    return parse_timestamp(None, text)


def parse_health(root: XmlNode, latency_ms: float) -> HealthReport:
    if root.tag != "health_check":
        raise ApplianceProtocolError(f"expected <health_check>, got <{root.tag}>")
    appliance = root.get("appliance")
    if appliance is None or not appliance.attrs.get("id"):
        raise ApplianceProtocolError("<health_check> lacks <appliance id=...>")
    version, build = split_version(required(root, "version"))
    sync = root.get("last_data_sync_time")
    shared = root.get("enabled_shared_ips")
    return HealthReport(
        appliance_id=appliance.attrs["id"],
        hostname=appliance.text,
        version=version,
        build=build,
        success=parse_flag(required(root, "success"), "success"),
        error_message=root.text_of("error_message") or None,
        failover_role=parse_role(required(root, "failover_role")),
        enabled_shared_ips=[ip.text for ip in shared.all("ip")] if shared is not None else [],
        last_data_sync_at=parse_timestamp(sync.attrs.get("ts"), sync.text) if sync is not None else None,
        last_data_sync_status=root.text_of("last_data_sync_status"),
        latency_ms=latency_ms,
    )


def parse_api_info(root: XmlNode) -> ApiInfo:
    if root.tag != "api_information":
        raise ApplianceProtocolError(f"expected <api_information>, got <{root.tag}>")
    permissions_node = root.get("permissions")
    permissions = (
        {p.attrs["name"]: p.text for p in permissions_node.all("permission") if "name" in p.attrs}
        if permissions_node is not None
        else {}
    )
    stamp = root.text_of("timestamp")
    return ApiInfo(
        api_version=required(root, "api_version"),
        permissions=permissions,
        timestamp=parse_timestamp_text(stamp),
        company_name=root.text_of("company_name"),
    )


def parse_appliances(root: XmlNode) -> ApplianceListing:
    if root.tag != "appliances":
        raise ApplianceProtocolError(f"expected <appliances>, got <{root.tag}>")
    entries = []
    for node in root.all("appliance"):
        offset = node.text_of("timezone_offset")
        accepting = node.text_of("accepting_connections", "1")
        entries.append(
            ApplianceEntry(
                appliance_id=node.attrs.get("id", ""),
                name=node.text_of("name", ""),
                public_hostname=node.text_of("public_hostname", ""),
                cluster_role=node.text_of("cluster_role", "single"),
                failover_role=parse_role(node.text_of("failover_role", "none")),
                accepting_connections=parse_flag(accepting, "accepting_connections"),
                timezone_offset=int(offset) if offset and offset.lstrip("-").isdigit() else None,
            )
        )
    return ApplianceListing(appliances=entries)


def parse_role_change(root: XmlNode, requested: FailoverRole) -> RoleChangeResult:
    message = root.text_of("success")
    if message is None:
        raise ApplianceProtocolError(f"role change answer <{root.tag}> has neither <success> nor <error>")
    return RoleChangeResult(
        requested_role=requested,
        message=message,
        pending_data_sync="data sync" in message.lower(),
    )


def parse_capabilities(root: XmlNode) -> Capabilities:
    """``x_get_capabilities``: ``<action>`` entries directly under the root or in a container such as
    ``<extension_actions>``; other leaves (e.g. ``<simulator>1</simulator>``) become details."""
    containers = [root, *(c for c in root.children if c.all("action"))]
    actions = {a.attrs.get("name") or a.text for container in containers for a in container.all("action")}
    details = {c.tag: c.text for c in root.children if not c.children and c.tag != "action"}
    return Capabilities(
        actions=frozenset(STANDARD_ACTIONS | {a for a in actions if a}),
        extensions_reported=True,
        details=details,
    )


def parse_action_result(root: XmlNode) -> ActionResult:
    return ActionResult(message=required(root, "success"))


def _leaves(node: XmlNode, known: set[str]) -> dict[str, str]:
    return {c.tag: c.text for c in node.children if not c.children and c.tag not in known}


def _int(node: XmlNode, name: str) -> int:
    text = required(node, name)
    try:
        return int(text)
    except ValueError:
        raise ApplianceProtocolError(f"<{name}> should be an integer, got {text!r}") from None


def parse_backup_settings(root: XmlNode) -> BackupSettings:
    ips = root.get("connectivity_test_ips")
    flags = ("enable_backup_operations", "automatic_failover")
    numbers = ("primary_timeout", "sync_interval", "bandwidth_limit")
    return BackupSettings(
        **{name: parse_flag(required(root, name), name) for name in flags},
        **{name: _int(root, name) for name in numbers},
        connectivity_test_ips=[ip.text for ip in ips.children] if ips is not None else [],
        extra=_leaves(root, {*flags, *numbers}),
    )


def parse_sync_status(root: XmlNode) -> SyncStatus:
    peer = root.get("peer")
    history = root.get("history")
    users = root.text_of("users_connected")
    return SyncStatus(
        failover_role=parse_role(required(root, "failover_role")),
        peer_hostname=peer.text_of("hostname") if peer is not None else None,
        peer_address=peer.text_of("address") if peer is not None else None,
        peer_reachable=parse_flag(peer.text_of("reachable", "0"), "reachable") if peer is not None else None,
        network_method=root.text_of("network_method"),
        sync_in_progress=parse_flag(root.text_of("sync_in_progress", "0"), "sync_in_progress"),
        operation_in_progress=root.text_of("operation_in_progress", ""),
        users_connected=int(users) if users and users.isdigit() else None,
        last_data_sync_at=parse_timestamp_text(root.text_of("last_data_sync_time")),
        last_data_sync_status=root.text_of("last_data_sync_status"),
        history=[entry.to_dict() for entry in history.children] if history is not None else [],
    )


def parse_certificates(root: XmlNode) -> list[CertificateInfo]:
    container = root.get("certificate_list", root)
    known = {"id", "friendly_name", "names", "sha256_fingerprint", "default", "not_after", "pem"}
    certificates = []
    for node in container.all("certificate"):
        names = node.get("names")
        certificates.append(CertificateInfo(
            id=required(node, "id"),
            friendly_name=node.text_of("friendly_name", ""),
            names=[n.text for n in names.children] if names is not None else [],
            sha256_fingerprint=required(node, "sha256_fingerprint").replace(":", "").lower(),
            is_default=parse_flag(node.text_of("default", "0"), "default"),
            not_after=parse_timestamp_text(node.text_of("not_after")),
            pem=node.text_of("pem", ""),
            extra=_leaves(node, known),
        ))
    return certificates


def parse_imported_certificate(root: XmlNode) -> ImportedCertificate:
    return ImportedCertificate(
        id=required(root, "id"),
        sha256_fingerprint=required(root, "sha256_fingerprint"),
        message=root.text_of("success", ""),
    )


def parse_key_fingerprint(root: XmlNode) -> KeyFingerprint:
    return KeyFingerprint(algorithm=root.text_of("algorithm", "sha256"), fingerprint=required(root, "fingerprint"))


def parse_token(status: int, content_type: str, body: bytes) -> Token:
    """Answer of ``POST /oauth2/token``: JSON in both the success and the error case."""
    try:
        data = json.loads(body) if body else {}
    except ValueError:
        data = None
    if status in (400, 401, 403):
        reason = ""
        if isinstance(data, dict):
            reason = ": ".join(str(data[k]) for k in ("error", "message", "error_description") if data.get(k))
        raise ApplianceAuthError(f"token request refused (HTTP {status}{', ' + reason if reason else ''})")
    if status != 200:
        raise ApplianceProtocolError(f"token endpoint answered HTTP {status}")
    if content_type != "application/json" or not isinstance(data, dict):
        raise ApplianceProtocolError(f"token endpoint did not answer JSON (content type {content_type or 'none'!r})")
    token, lifetime = data.get("access_token"), data.get("expires_in", 3600)
    if not isinstance(token, str) or not token or str(data.get("token_type", "Bearer")).lower() != "bearer":
        raise ApplianceProtocolError("token endpoint answer lacks a bearer access_token")
    if not isinstance(lifetime, int | float) or isinstance(lifetime, bool):
        raise ApplianceProtocolError(f"token endpoint gave a non-numeric expires_in {lifetime!r}")
    return Token(access_token=token, expires_in=float(lifetime))
