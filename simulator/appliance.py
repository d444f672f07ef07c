"""State of one simulated appliance. Behaviour that involves the peer lives in failover.py."""

from __future__ import annotations

import copy
import datetime as dt
import time
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

from .auth import Accounts
from .fleet import DEFAULT_SETTINGS
from .pki import Certificate, sha256_hex

ROLES = ("none", "primary", "backup")


@dataclass
class SyncRecord:
    started: float
    finished: float | None
    source: str  # address of the primary the data came from
    target: str  # address of the backup that was overwritten
    bytes: int
    status: str
    reason: str


def iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(int(ts), dt.UTC).isoformat()


class Appliance:
    def __init__(self, spec: dict[str, Any], org: dict[str, Any]) -> None:
        self.spec = spec
        self.organisation = org.get("slug", "")
        self.company_name = org.get("name", "")
        self.name: str = spec["name"]
        # "vendor" (vendor API only, real answers' quirks) or "extended" (plus the x_ actions); see fleet.PROFILES.
        self.profile: str = spec.get("profile", "extended")
        self.backup_password: str = spec.get("backup_password", "")
        self.address: str = spec["address"]
        self.hostname: str = spec["hostname"]
        self.guid: str = spec["guid"]
        self.model: str = spec["model"]
        self.serial: str = spec["serial"]
        self.version: str = spec["version"]
        self.build: str = spec["build"]
        self.timezone_offset: int = spec["timezone_offset"]
        self.inter_appliance_key: str = spec["inter_appliance_key"]
        primary_account = {k: spec[k] for k in ("client_id", "client_secret", "perm_command", "perm_backup")}
        self.accounts = Accounts([primary_account, *spec["extra_accounts"]])
        self.data: dict[str, Any] = copy.deepcopy(spec["data"])
        self.users_connected: int = spec["users_connected"]
        self.accepting_users = True
        self.role = "none"
        self.peer_address: str | None = None
        self.relationship: dict[str, Any] | None = None
        self.shared_ips: list[str] = []
        self.settings: dict[str, Any] = copy.deepcopy(DEFAULT_SETTINGS)
        self.sync_history: deque[SyncRecord] = deque(maxlen=50)
        self.role_history: deque[dict[str, Any]] = deque(maxlen=50)
        self.last_sync: SyncRecord | None = None
        self.sync_in_progress = False
        # Name of the failover operation that blocks every other one until it ends, or None.
        self.busy: str | None = None
        self.certificates: list[Certificate] = []
        self.default_certificate_id = "default"
        self.faults: dict[str, dict[str, Any]] = {}
        self.fault_since: dict[str, float] = {}
        self.flap_count = 0  # connections seen since the flapping fault was set

    # -- failover role -------------------------------------------------------------------------

    def set_role(self, role: str, reason: str) -> None:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        if role != self.role:
            self.role_history.append({"ts": time.time(), "from": self.role, "to": role, "reason": reason})
        self.role = role

    @property
    def enabled_shared_ips(self) -> list[str]:
        # Shared IPs follow the primary role: enabled on the primary, disabled on the backup.
        return list(self.shared_ips) if self.role == "primary" else []

    @property
    def data_bytes(self) -> int:
        return sum(v for k, v in self.data.items() if k.endswith("_bytes"))

    @property
    def key_fingerprint(self) -> str:
        return sha256_hex(self.inter_appliance_key)

    @property
    def vendor_only(self) -> bool:
        return self.profile == "vendor"

    @property
    def version_string(self) -> str:
        return f"{self.version} ({self.build})"

    # -- certificates --------------------------------------------------------------------------

    def certificate(self, cert_id: str) -> Certificate | None:
        return next((c for c in self.certificates if c.id == cert_id), None)

    def default_certificate(self) -> Certificate | None:
        return self.certificate(self.default_certificate_id)

    def certificate_for(self, server_name: str | None) -> Certificate | None:
        """The default certificate if it matches the SNI, else an imported one that does, else the default."""
        default = self.default_certificate()
        if server_name and not (default and default.matches(server_name)):
            for cert in self.certificates:
                if cert.imported and cert.matches(server_name):
                    return cert
        return default

    # -- control API view ----------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "profile": self.profile,
            "backup_password_set": bool(self.backup_password),
            "organisation": self.organisation,
            "address": self.address,
            "hostname": self.hostname,
            "guid": self.guid,
            "model": self.model,
            "serial": self.serial,
            "version": self.version,
            "build": self.build,
            "role": self.role,
            "peer_address": self.peer_address,
            "relationship": copy.deepcopy(self.relationship),
            "shared_ips": list(self.shared_ips),
            "enabled_shared_ips": self.enabled_shared_ips,
            "settings": copy.deepcopy(self.settings),
            "data": copy.deepcopy(self.data),
            "data_bytes": self.data_bytes,
            "users_connected": self.users_connected,
            "accepting_users": self.accepting_users,
            "busy": self.busy,
            "sync_in_progress": self.sync_in_progress,
            "last_sync": asdict(self.last_sync) if self.last_sync else None,
            "sync_history": [asdict(r) for r in self.sync_history],
            "role_history": list(self.role_history),
            "inter_appliance_key_sha256": self.key_fingerprint,
            "certificates": [
                {**c.describe(), "default": c.id == self.default_certificate_id} for c in self.certificates
            ],
            "accounts": self.accounts.describe(),
            "faults": copy.deepcopy(self.faults),
        }
