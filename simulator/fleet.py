"""Fleet file: the description of organisations, appliances and failover pairs.

The portal's inventory loader reads the same file, so the schema (documented in docs/simulator.md)
is a stable contract: add optional keys only, never rename or repurpose existing ones.
"""

from __future__ import annotations

import copy
import hashlib
import ipaddress
import json
from pathlib import Path
from typing import Any

import yaml

SCHEMA_VERSION = 1
FIRST_ADDRESS = ipaddress.IPv4Address("127.1.0.1")
PERMISSIONS = ("full_access", "read_only", "deny")
NETWORK_METHODS = ("shared_ip", "dns_swing", "nat_swing")
# What an appliance answers: ``vendor`` = the vendor API only, with the quirks of real answers (older XML
# namespace, the vendor's opaque backup file, no ``x_`` actions); ``extended`` = the vendor API plus the
# simulator's ``x_`` extension actions.
PROFILES = ("extended", "vendor")

DEFAULT_SETTINGS: dict[str, Any] = {
    "enable_backup_operations": True,
    "primary_timeout": 300,
    "sync_interval": 3600,
    "bandwidth_limit": 0,
    "automatic_failover": False,
    "connectivity_test_ips": [],
}

DEFAULT_SIMULATOR: dict[str, Any] = {
    # Real seconds per simulated second for every simulated duration (syncs, timeouts, intervals).
    "time_scale": 1.0,
    # Bytes per simulated second a data sync moves when no bandwidth limit is set (1 Gbit/s).
    "link_bandwidth": 125_000_000,
    # Simulated seconds between the two halves of a serial role swap (both report backup meanwhile).
    "swap_gap": 2.0,
    # Simulated seconds between establishing a relationship and its first data sync.
    "first_sync_delay": 60.0,
}


class FleetError(ValueError):
    pass


def load_fleet(path: str | Path) -> dict[str, Any]:
    """Read a YAML or JSON fleet file and return it validated, with defaults filled in."""
    text = Path(path).read_text()
    data = json.loads(text) if str(path).endswith(".json") else yaml.safe_load(text)
    return normalise_fleet(data)


def normalise_fleet(data: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(data, dict) or "organisations" not in data:
        raise FleetError("fleet file must be a mapping with an 'organisations' list")
    data["simulator"] = {**DEFAULT_SIMULATOR, **(data.get("simulator") or {})}
    seen_addresses: set[str] = set()
    seen_hosts: set[str] = set()
    for org in data["organisations"]:
        names = {}
        for appliance in org.get("appliances", []):
            _check_appliance(appliance, seen_addresses, seen_hosts)
            names[appliance["name"]] = appliance
        for pair in org.get("pairs", []):
            for member in ("primary", "backup"):
                if pair.get(member) not in names:
                    raise FleetError(f"pair member {pair.get(member)!r} is not an appliance of {org.get('slug')}")
            pair.setdefault("network_method", "shared_ip")
            if pair["network_method"] not in NETWORK_METHODS:
                raise FleetError(f"unknown network_method {pair['network_method']!r}")
            pair.setdefault("shared_ips", [])
            pair["settings"] = {**DEFAULT_SETTINGS, **(pair.get("settings") or {})}
    return data


def _check_appliance(appliance: dict[str, Any], addresses: set[str], hosts: set[str]) -> None:
    for key in ("name", "address", "hostname", "guid", "version", "build", "client_id", "client_secret",
                "inter_appliance_key"):
        if not appliance.get(key):
            raise FleetError(f"appliance {appliance.get('name')!r} lacks {key!r}")
    address = ipaddress.IPv4Address(appliance["address"])
    if not address.is_loopback or address == ipaddress.IPv4Address("127.0.0.1"):
        raise FleetError(f"{address} must be a loopback address other than 127.0.0.1")
    if appliance["address"] in addresses or appliance["hostname"] in hosts:
        raise FleetError(f"duplicate address or hostname for {appliance['name']!r}")
    addresses.add(appliance["address"])
    hosts.add(appliance["hostname"])
    appliance.setdefault("perm_command", "full_access")
    appliance.setdefault("perm_backup", True)
    if appliance["perm_command"] not in PERMISSIONS:
        raise FleetError(f"unknown perm_command {appliance['perm_command']!r}")
    appliance.setdefault("extra_accounts", [])
    for account in appliance["extra_accounts"]:
        if not account.get("client_id") or not account.get("client_secret"):
            raise FleetError(f"an extra account of {appliance['name']!r} lacks client_id or client_secret")
        account.setdefault("perm_command", "read_only")
        account.setdefault("perm_backup", False)
        if account["perm_command"] not in PERMISSIONS:
            raise FleetError(f"unknown perm_command {account['perm_command']!r}")
    appliance.setdefault("profile", "extended")
    if appliance["profile"] not in PROFILES:
        raise FleetError(f"unknown profile {appliance['profile']!r}; valid: {', '.join(PROFILES)}")
    # Password protecting the configuration backup (/api/backup); "" = not protected.
    appliance.setdefault("backup_password", "")
    appliance.setdefault("model", "B400")
    appliance.setdefault("serial", appliance["guid"][:12].upper())
    appliance.setdefault("timezone_offset", 0)
    appliance.setdefault("users_connected", 0)
    appliance["data"] = {**_default_data(), **(appliance.get("data") or {})}


def _default_data() -> dict[str, Any]:
    return {"users": 10, "file_store_bytes": 10_000_000, "log_bytes": 5_000_000,
            "recording_bytes": 100_000_000, "config": {"site_name": "Support"}}


def iter_appliances(fleet: dict[str, Any]):
    for org in fleet["organisations"]:
        for appliance in org.get("appliances", []):
            yield org, appliance


def iter_pairs(fleet: dict[str, Any]):
    for org in fleet["organisations"]:
        by_name = {a["name"]: a for a in org.get("appliances", [])}
        for pair in org.get("pairs", []):
            yield org, pair, by_name[pair["primary"]], by_name[pair["backup"]]


# ---------------------------------------------------------------------------------------------
# Deterministic generation


def _digest(*parts: object) -> str:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()


def _addresses():
    """127.1.0.1 upward, skipping .0 and .255 last octets so addresses read naturally."""
    address = FIRST_ADDRESS
    while True:
        if address.packed[-1] not in (0, 255):
            yield str(address)
        address += 1


def _make_appliance(seed: str, slug: str, name: str, address: str, key: str, domain: str,
                    profile: str = "extended") -> dict[str, Any]:
    h = _digest(seed, slug, name)
    return {
        "name": name,
        "profile": profile,
        "backup_password": "",
        "address": address,
        "hostname": f"{name}.{slug}.{domain}",
        "guid": h[:32],
        "model": "B400" if int(h[32], 16) % 2 else "B300",
        "serial": h[32:44].upper(),
        "version": "24.3.1",
        "build": "41234-0123abcd",
        "timezone_offset": 0,
        "client_id": h[:24],
        "client_secret": _digest(seed, "secret", slug, name)[:40],
        "perm_command": "full_access",
        "perm_backup": True,
        "extra_accounts": [{
            "client_id": h[:24] + "ro",
            "client_secret": _digest(seed, "ro-secret", slug, name)[:40],
            "perm_command": "read_only",
            "perm_backup": False,
        }],
        "inter_appliance_key": key,
        "users_connected": int(h[52:54], 16) % 20,
        "data": {
            "users": 20 + int(h[54:57], 16) % 200,
            "file_store_bytes": 20_000_000 + int(h[57:60], 16) * 10_000,
            "log_bytes": 5_000_000 + int(h[60:63], 16) * 1_000,
            "recording_bytes": 500_000_000 + int(h[40:44], 16) * 10_000,
            "config": {"site_name": f"{slug} support", "company": slug},
        },
    }


def generate_fleet(organisations: int = 2, pairs_per_org: int = 2, singles: int = 1, *,
                   seed: str = "failover-portal", settings: dict[str, Any] | None = None,
                   simulator: dict[str, Any] | None = None, domain: str = "sim.test",
                   path: str | Path | None = None, vendor_pairs_per_org: int = 0,
                   vendor_singles_per_org: int = 0) -> dict[str, Any]:
    """Build a deterministic fleet; the same arguments always give the same file.

    Each pair shares an inter-appliance key and a version; every appliance gets a full-access
    account (``client_id``/``client_secret``) and a read-only extra account. The last
    ``vendor_pairs_per_org`` pairs and ``vendor_singles_per_org`` singles of each organisation use
    the ``vendor`` profile (vendor API only), the others the ``extended`` profile.
    """
    addresses = _addresses()
    shared = ipaddress.IPv4Address("127.250.0.1")
    orgs = []
    for o in range(1, organisations + 1):
        slug = f"org-{o:03d}"
        appliances, pairs = [], []
        for p in range(1, pairs_per_org + 1):
            key = _digest(seed, "iak", slug, p)[:48]
            profile = "vendor" if p > pairs_per_org - vendor_pairs_per_org else "extended"
            primary = _make_appliance(seed, slug, f"{slug}-pair{p:02d}-a", next(addresses), key, domain, profile)
            backup = _make_appliance(seed, slug, f"{slug}-pair{p:02d}-b", next(addresses), key, domain, profile)
            backup["data"] = copy.deepcopy(primary["data"])  # a synced backup holds the same data
            appliances += [primary, backup]
            pairs.append({
                "primary": primary["name"],
                "backup": backup["name"],
                "network_method": "shared_ip",
                "site_hostname": f"pair{p:02d}.{slug}.{domain}",
                "shared_ips": [str(shared)],
                "settings": {**DEFAULT_SETTINGS, **(settings or {})},
            })
            shared += 1
        for s in range(1, singles + 1):
            key = _digest(seed, "iak", slug, "single", s)[:48]
            profile = "vendor" if s > singles - vendor_singles_per_org else "extended"
            appliances.append(_make_appliance(seed, slug, f"{slug}-single{s:02d}", next(addresses), key, domain,
                                              profile))
        orgs.append({"slug": slug, "name": f"Organisation {o:03d}", "appliances": appliances, "pairs": pairs})
    fleet = {
        "schema_version": SCHEMA_VERSION,
        "simulator": {**DEFAULT_SIMULATOR, **(simulator or {})},
        "organisations": orgs,
    }
    if path is not None:
        write_fleet(fleet, path)
    return fleet


def write_fleet(fleet: dict[str, Any], path: str | Path) -> None:
    path = Path(path)
    if path.suffix == ".json":
        path.write_text(json.dumps(fleet, indent=1))
    else:
        path.write_text(yaml.safe_dump(fleet, sort_keys=False))
