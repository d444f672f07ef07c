"""Writing back a batch's appliance status: the narrow per-probe row always, the appliance row only on change.

A probe always changes its narrow ``ApplianceProbeStatus`` row (when it ran, and when the next one is due): one
short row per appliance, no indexed column among them, so PostgreSQL updates it in place (HOT). The ~1.1 KB
appliance row holds what a person sees change (reachable, healthy, role, version, shared IPs, last sync): in a
steady fleet nothing there changes, and it is not written at all.
"""

from __future__ import annotations

from collections.abc import Sequence

from appliances.models import PROBE_STATUS_FIELDS, Appliance, ApplianceProbeStatus
from portal.bulk import bulk_update_rows

from .transitions import STATUS_FIELDS

#: The status columns on the appliance row itself (the rest are the narrow row's).
APPLIANCE_STATUS_FIELDS = [name for name in STATUS_FIELDS if name not in PROBE_STATUS_FIELDS]


def appliance_status(appliance: Appliance) -> tuple:
    """The appliance row's status columns, to tell afterwards whether a probe changed any of them."""
    return tuple(getattr(appliance, name) for name in APPLIANCE_STATUS_FIELDS)


def write_statuses(appliances: Sequence[Appliance], *, before: dict[int, tuple]) -> int:
    """Write every appliance's narrow row, and the appliance row of those whose ``appliance_status`` differs from
    ``before`` (pk -> it, taken before the probe was applied). Returns how many appliance rows were written."""
    rows = [appliance.probe_status_row for appliance in appliances]
    # An appliance inserted in bulk and probed without a claim (a direct call) has no row yet.
    new = [row for row in rows if row._state.adding]
    bulk_update_rows(ApplianceProbeStatus, [row for row in rows if not row._state.adding], PROBE_STATUS_FIELDS)
    if new:
        ApplianceProbeStatus.objects.bulk_create(new, update_conflicts=True, unique_fields=["appliance"],
                                                 update_fields=list(PROBE_STATUS_FIELDS))
    changed = [appliance for appliance in appliances if appliance_status(appliance) != before.get(appliance.pk)]
    bulk_update_rows(Appliance, changed, APPLIANCE_STATUS_FIELDS)
    return len(changed)
