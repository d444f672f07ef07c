"""Load a simulator fleet file (docs/simulator.md) into the inventory, so the demo, the tests and the
simulator start from one description. Idempotent: running it again updates what it created."""

from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from portal.models import Organization
from portal.services.organizations import organization_create
from simulator.fleet import iter_appliances, load_fleet, normalise_fleet

from .models import AddressKind, Appliance, ApplianceAddress
from .services import address_create, appliance_create, appliance_update


@dataclass
class FleetLoadResult:
    organizations: list[Organization] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    appliances: dict[str, Appliance] = field(default_factory=dict)


def _organization(actor, org_data) -> Organization:
    existing = Organization.objects.filter(slug=org_data["slug"]).first()
    if existing is not None:
        return existing
    return organization_create(actor=actor, name=org_data.get("name") or org_data["slug"], slug=org_data["slug"])


@transaction.atomic
def fleet_load(*, actor, fleet: dict | str | Path, ca_pem: str, port: int) -> FleetLoadResult:
    """Create or update one appliance per fleet entry, reached at its loopback address on ``port`` and
    trusted through the simulator's CA."""
    data = load_fleet(fleet) if isinstance(fleet, (str, Path)) else normalise_fleet(fleet)
    result = FleetLoadResult()
    organizations = {}
    for org_data, item in iter_appliances(data):
        if org_data["slug"] not in organizations:
            organizations[org_data["slug"]] = _organization(actor, org_data)
            result.organizations.append(organizations[org_data["slug"]])
        organization = organizations[org_data["slug"]]
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
        appliance = Appliance.objects.filter(organization=organization, name=item["name"]).first()
        if appliance is None:
            appliance = appliance_create(actor=actor, organization=organization, name=item["name"], **fields)
            result.created += 1
        else:
            appliance = appliance_update(actor=actor, appliance=appliance, data=fields)
            result.updated += 1
        if not ApplianceAddress.objects.filter(appliance=appliance, address=item["address"]).exists():
            address_create(actor=actor, appliance=appliance, address=item["address"], prefix_length=8, kind=AddressKind.UNIQUE)
        result.appliances[item["name"]] = appliance
    return result
