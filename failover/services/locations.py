"""Writes for probe locations: the organisation's default locations and quorum, an appliance's override, and the
platform's catalogue of locations (see ``probing/locations.py`` for what they do)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from appliances.models import Appliance
from portal.models import AuditAction, Role
from portal.permissions import require_platform_operator, require_role
from portal.services.audit import audit_record

from ..models import LOCAL_LOCATION, ApplianceProbeLocations, ProbeLocation, ProbeSettings
from ..models.locations import location_name_validator

#: The role each write needs (the API reads the same table).
LOCATION_ROLES = {"configure": Role.ADMIN}
MAX_LOCATIONS = 9


def clean_location_names(names) -> list[str]:
    """Known location names, deduplicated in order; a ValidationError naming the unknown ones."""
    if not isinstance(names, list | tuple) or not all(isinstance(n, str) for n in names):
        raise ValidationError({"locations": "A list of location names."})
    names = list(dict.fromkeys(n.strip() for n in names if n.strip()))
    if len(names) > MAX_LOCATIONS:
        raise ValidationError({"locations": f"At most {MAX_LOCATIONS} locations."})
    known = set(ProbeLocation.objects.filter(name__in=names).values_list("name", flat=True)) | {LOCAL_LOCATION}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValidationError({"locations": f"Unknown probe location(s): {', '.join(unknown)}."})
    return names


def clean_quorum(quorum, locations: list[str]) -> int | None:
    if quorum in (None, ""):
        return None
    count = len(locations) or 1
    if not isinstance(quorum, int) or not 1 <= quorum <= count:
        raise ValidationError({"quorum": f"Between 1 and the number of locations ({count}), or empty for a majority."})
    return quorum


@transaction.atomic
def probe_settings_set(*, actor, organization, locations, quorum: int | None = None) -> ProbeSettings:
    """The organisation's default probe locations (empty: ``local`` alone) and quorum (None: a majority)."""
    organization_id = getattr(organization, "pk", organization)
    require_role(actor, organization_id, LOCATION_ROLES["configure"])
    locations = clean_location_names(locations)
    quorum = clean_quorum(quorum, locations)
    row, _ = ProbeSettings.objects.select_for_update().get_or_create(organization_id=organization_id)
    before = {"locations": row.locations, "quorum": row.quorum}
    row.locations, row.quorum = locations, quorum
    row.save(update_fields=["locations", "quorum", "updated_at"])
    audit_record(actor=actor, organization=row.organization, action=AuditAction.UPDATE, obj=row,
                 changes={k: [before[k], v] for k, v in (("locations", locations), ("quorum", quorum))
                          if before[k] != v})
    return row


@transaction.atomic
def appliance_probe_locations_set(*, actor, appliance: Appliance, locations) -> ApplianceProbeLocations | None:
    """Override the organisation's default locations for one appliance (an empty list removes the override)."""
    require_role(actor, appliance.organization_id, LOCATION_ROLES["configure"])
    locations = clean_location_names(locations)
    existing = ApplianceProbeLocations.objects.select_for_update().filter(appliance=appliance).first()
    before = existing.locations if existing else []
    if not locations:
        if existing:
            existing.delete()
    else:
        existing = existing or ApplianceProbeLocations(organization_id=appliance.organization_id, appliance=appliance)
        existing.locations = locations
        existing.save()
    if before != locations:
        audit_record(actor=actor, organization=appliance.organization, action=AuditAction.UPDATE, obj=appliance,
                     verb="set probe locations", changes={"probe_locations": [before, locations]})
    return existing if locations else None


def probe_location_create(*, actor, name: str, description: str = "",
                          reference_targets: list[str] | None = None) -> ProbeLocation:
    """Add a location to the platform's catalogue (platform operators: its workers are platform infrastructure)."""
    require_platform_operator(actor, "add probe locations")
    try:
        location_name_validator(name)
    except ValidationError as exc:
        raise ValidationError({"name": exc.messages}) from None
    if ProbeLocation.objects.filter(name=name).exists():
        raise ValidationError({"name": "A location with this name exists."})
    return ProbeLocation.objects.create(name=name, description=description,
                                        reference_targets=list(reference_targets or []))
