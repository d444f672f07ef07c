"""Writes to the appliance inventory. Views, the API and commands all come through here."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone

from portal.bulk import bulk_update_rows
from portal.models import Role
from portal.permissions import require_role
from portal.services.common import (
    model_create,
    model_delete,
    model_update,
    models_build,
    models_bulk_create,
    models_bulk_insert,
    models_bulk_update,
)

from .changes import appliances_changed
from .models import Appliance, ApplianceAddress

APPLIANCE_EDITABLE_FIELDS = [
    "name",
    "management_host",
    "management_port",
    "location",
    "appliance_guid",
    "model",
    "serial_number",
    "product_version",
    "build",
    "site_hostname",
    "client_id",
    "client_secret",
    "probe_client_id",
    "probe_client_secret",
    "backup_password",
    "ca_bundle",
    "tls_pin",
    "probe_interval",
    "probe_timeout",
]
ADDRESS_EDITABLE_FIELDS = ["address", "prefix_length", "kind", "enabled"]

#: The role each inventory write (appliances and their addresses) needs: checked here; the pages and the API
#: read this same table.
INVENTORY_ROLES = {"create": Role.ADMIN, "update": Role.ADMIN, "delete": Role.ADMIN}


@transaction.atomic
def appliance_create(*, actor, organization, addresses: list[dict] | None = None, **fields) -> Appliance:
    require_role(actor, organization, INVENTORY_ROLES["create"])
    appliance = model_create(actor=actor, model=Appliance, data={"organization": organization, **fields})
    for address in addresses or []:
        address_create(actor=actor, appliance=appliance, **address)
    return appliance


def appliances_bulk_create(*, actor, rows: list[dict]) -> list[Appliance]:
    """Many appliances at once (an import, a fleet load): each row holds an ``organization`` instance and the
    fields of ``appliance_create``; validated, inserted and audited in batches."""
    for organization in {row["organization"] for row in rows}:
        require_role(actor, organization, INVENTORY_ROLES["create"])
    return models_bulk_create(actor=actor, model=Appliance, rows=rows)


def addresses_bulk_create(*, actor, rows: list[dict]) -> list[ApplianceAddress]:
    """Many addresses at once: each row holds an ``appliance`` instance and the fields of ``address_create``."""
    addresses, errors = addresses_build(rows)
    if errors:
        raise ValidationError([message for messages in errors.values() for message in messages])
    return addresses_bulk_insert(actor=actor, addresses=addresses)


def addresses_build(rows: list[dict]) -> tuple[list[ApplianceAddress], dict[int, list[str]]]:
    """The unsaved addresses of ``rows`` (as ``addresses_bulk_create`` takes them) and each invalid row's messages
    by its index (``models_build``)."""
    return models_build(model=ApplianceAddress, rows=[
        {"organization": row["appliance"].organization, **row} for row in rows])


def addresses_bulk_insert(*, actor, addresses: list[ApplianceAddress]) -> list[ApplianceAddress]:
    """Insert and audit addresses ``addresses_build`` found valid."""
    for organization in {address.organization for address in addresses}:
        require_role(actor, organization, INVENTORY_ROLES["create"])
    models_bulk_insert(actor=actor, instances=addresses)
    appliances_changed(address.appliance_id for address in addresses)
    return addresses


@transaction.atomic
def appliance_update(*, actor, appliance: Appliance, data: dict) -> Appliance:
    require_role(actor, appliance.organization_id, INVENTORY_ROLES["update"])
    appliance = model_update(actor=actor, instance=appliance, data=data, fields=APPLIANCE_EDITABLE_FIELDS)[0]
    # Unconditionally: a form may have set its values on the instance already, hiding them from the diff.
    appliances_changed([appliance.pk])
    return appliance


def appliance_delete(*, actor, appliance: Appliance) -> None:
    require_role(actor, appliance.organization_id, INVENTORY_ROLES["delete"])
    try:
        model_delete(actor=actor, instance=appliance)
    except ProtectedError as exc:
        # A pair member or an appliance with a replacement case keeps its history: say what holds it.
        holders = sorted({f"{obj._meta.verbose_name} “{obj}”" for obj in exc.protected_objects})
        raise ValidationError(
            f"{appliance} cannot be deleted while these refer to it: {', '.join(holders)}. "
            "Break or delete the pair, or close the case, first."
        ) from exc


@transaction.atomic
def appliances_bulk_update(*, actor, changes: list[tuple[Appliance, dict]]) -> list[dict]:
    """``appliance_update`` for many appliances (``models_bulk_update``: a few statements per thousand, whatever
    the number): each pair is an appliance, its organisation loaded, and its new values. The listeners hear once."""
    for organization_id in {appliance.organization_id for appliance, _ in changes}:
        require_role(actor, organization_id, INVENTORY_ROLES["update"])
    diffs = models_bulk_update(actor=actor, changes=changes, fields=APPLIANCE_EDITABLE_FIELDS)
    appliances_changed(appliance.pk for appliance, _ in changes)
    return diffs


@transaction.atomic
def address_create(*, actor, appliance: Appliance, **fields) -> ApplianceAddress:
    require_role(actor, appliance.organization_id, INVENTORY_ROLES["create"])
    address = model_create(
        actor=actor,
        model=ApplianceAddress,
        data={"organization_id": appliance.organization_id, "appliance": appliance, **fields},
    )
    appliances_changed([appliance.pk])
    return address


@transaction.atomic
def address_update(*, actor, address: ApplianceAddress, data: dict) -> ApplianceAddress:
    require_role(actor, address.organization_id, INVENTORY_ROLES["update"])
    address = model_update(actor=actor, instance=address, data=data, fields=ADDRESS_EDITABLE_FIELDS)[0]
    appliances_changed([address.appliance_id])
    return address


@transaction.atomic
def address_delete(*, actor, address: ApplianceAddress) -> None:
    require_role(actor, address.organization_id, INVENTORY_ROLES["delete"])
    appliance_id = address.appliance_id
    model_delete(actor=actor, instance=address)
    appliances_changed([appliance_id])


def appliance_record_capabilities(*, appliance: Appliance, capabilities) -> None:
    """Keep the capability profile the appliance just reported (the driver's ``Capabilities``). A reading, not a
    person's change: written directly, like probe results, with the time it was read."""
    appliances_record_capabilities(readings=[(appliance, capabilities)])


def appliances_record_capabilities(*, readings: list[tuple[Appliance, object]]) -> None:
    """``appliance_record_capabilities`` for many appliances at once (one UPDATE per thousand)."""
    now = timezone.now()
    for appliance, capabilities in readings:
        appliance.extension_actions = sorted(a for a in capabilities.actions if a.startswith("x_"))
        appliance.capabilities_read_at = now
    bulk_update_rows(Appliance, [appliance for appliance, _ in readings], ["extension_actions", "capabilities_read_at"])
