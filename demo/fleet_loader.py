"""Load a simulator fleet file (docs/simulator.md) into the inventory, so the demo, the tests and the
simulator start from one description. Idempotent: running it again updates what it created."""

from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from appliances.models import AddressKind, Appliance, ApplianceAddress
from appliances.services import addresses_bulk_create, appliance_update, appliances_bulk_create
from failover.models import Pair
from failover.services.pairs import (
    backup_settings_for,
    backup_settings_update,
    pair_update,
    pairs_bulk_create,
)
from portal.models import Organization
from portal.services.organizations import organization_create
from simulator.fleet import iter_appliances, load_fleet, normalise_fleet


@dataclass
class FleetLoadResult:
    organizations: list[Organization] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    appliances: dict[str, Appliance] = field(default_factory=dict)
    pairs: dict[str, Pair] = field(default_factory=dict)  # primary appliance name -> pair


def _organization(actor, org_data) -> Organization:
    existing = Organization.objects.filter(slug=org_data["slug"]).first()
    if existing is not None:
        return existing
    return organization_create(actor=actor, name=org_data.get("name") or org_data["slug"], slug=org_data["slug"])


@transaction.atomic
def fleet_load(*, actor, fleet: dict | str | Path, ca_pem: str, port: int, pairs: bool = False,
               vendor_pairs_to_adopt: int = 0) -> FleetLoadResult:
    """Create or update one appliance per fleet entry, reached at its loopback address on ``port`` and
    trusted through the simulator's CA. With ``pairs``, also the fleet's pairs (established, with both
    members' backup settings and shared IPs), except the first ``vendor_pairs_to_adopt`` vendor-profile pairs of
    each organisation: those are left for adoption, their members recording the site name as an admin would.
    One transaction; what is new is written in bulk (10,000 appliances in seconds), what exists goes through the
    per-row update services."""
    data = load_fleet(fleet) if isinstance(fleet, (str, Path)) else normalise_fleet(fleet)
    result = FleetLoadResult()
    organizations = {}
    entries = []
    for org_data, item in iter_appliances(data):
        if org_data["slug"] not in organizations:
            organizations[org_data["slug"]] = _organization(actor, org_data)
            result.organizations.append(organizations[org_data["slug"]])
        entries.append((organizations[org_data["slug"]], item))
    existing = {(a.organization_id, a.name): a for a in Appliance.objects.filter(organization__in=organizations.values())}
    new_rows = []
    for organization, item in entries:
        fields = {
            "management_host": item["address"],
            "management_port": port,
            "appliance_guid": item["guid"],
            "model": item.get("model", ""),
            "serial_number": item.get("serial", ""),
            "product_version": item["version"],
            "build": item["build"],
            "site_hostname": item["hostname"],
            "client_id": item["client_id"],
            "client_secret": item["client_secret"],
            "ca_bundle": ca_pem,
        }
        appliance = existing.get((organization.pk, item["name"]))
        if appliance is None:
            new_rows.append({"organization": organization, "name": item["name"], **fields})
            result.created += 1
        else:
            result.appliances[item["name"]] = appliance_update(actor=actor, appliance=appliance, data=fields)
            result.updated += 1
    for appliance in appliances_bulk_create(actor=actor, rows=new_rows):
        result.appliances[appliance.name] = appliance
    _add_missing_addresses(actor, [(result.appliances[item["name"]], item["address"], AddressKind.UNIQUE, True)
                                   for _organization, item in entries])
    for org_data in data["organisations"] if pairs else []:
        _load_pairs(actor, organizations[org_data["slug"]], org_data, result, port, vendor_pairs_to_adopt)
    return result


def _add_missing_addresses(actor, wanted: list[tuple[Appliance, str, str, bool]]) -> None:
    """(appliance, address, kind, enabled) rows the inventory does not have yet, created in bulk."""
    have = set(ApplianceAddress.objects.filter(appliance__in={a for a, *_ in wanted}).values_list(
        "appliance_id", "address"))
    rows, seen = [], set()
    for appliance, address, kind, enabled in wanted:
        if (appliance.pk, address) in have or (appliance.pk, address) in seen:
            continue
        seen.add((appliance.pk, address))
        rows.append({"appliance": appliance, "address": address, "prefix_length": 8, "kind": kind,
                     "enabled": enabled})
    addresses_bulk_create(actor=actor, rows=rows)


def _pair_backup_settings(item) -> dict:
    settings = dict(item.get("settings") or {})
    if "bandwidth_limit" in settings:  # bytes/s in the fleet file, kbit/s in the portal
        settings["bandwidth_limit"] = int(settings["bandwidth_limit"]) // 125
    return settings


def _load_pairs(actor, organization, org_data, result: FleetLoadResult, port: int, to_adopt: int = 0) -> None:
    """The fleet file's pairs start established and in sync: record them so, with both members' backup settings
    and the shared IPs (enabled on the primary only)."""
    profiles = {a["name"]: a.get("profile", "extended") for a in org_data.get("appliances", [])}
    existing = {p.primary_id: p for p in Pair.objects.filter(organization=organization)}
    new_rows, shared = [], []
    for item in org_data.get("pairs", []):
        primary, backup = result.appliances[item["primary"]], result.appliances[item["backup"]]
        if to_adopt and profiles[item["primary"]] == profiles[item["backup"]] == "vendor":
            to_adopt -= 1
            for appliance in (primary, backup):
                appliance_update(actor=actor, appliance=appliance, data={"site_hostname": item["site_hostname"]})
            continue
        shared_ips = item.get("shared_ips") or []
        fields = {
            "primary": primary, "backup": backup, "network_method": item.get("network_method", "shared_ip"),
            "shared_ip": shared_ips[0] if shared_ips else None,
            "backup_host": backup.management_host, "backup_port": port,
            "reverse_host": primary.management_host, "reverse_port": port,
        }
        if "portal_auto_failover" in item:  # optional: a reload leaves the operator's choice alone otherwise
            fields["portal_auto_failover"] = bool(item["portal_auto_failover"])
        site_hostname = item.get("site_hostname") or f"{primary.name}.site"
        settings = _pair_backup_settings(item)
        pair = existing.get(primary.pk)
        if pair is None:
            new_rows.append({"site_hostname": site_hostname, "established_at": timezone.now(),
                             "backup_settings": settings, **fields})
        else:
            pair = pair_update(actor=actor, pair=pair, data={"site_hostname": site_hostname, **fields})
            for appliance in pair.members:
                backup_settings_update(actor=actor, backup_settings=backup_settings_for(appliance), data=settings,
                                       apply=False)
            result.pairs[primary.name] = pair
        shared += [(appliance, ip, AddressKind.SHARED, appliance.pk == primary.pk)
                   for appliance in (primary, backup) for ip in shared_ips]
    for pair in pairs_bulk_create(actor=actor, organization=organization, rows=new_rows):
        result.pairs[pair.primary.name] = pair
    _add_missing_addresses(actor, shared)
