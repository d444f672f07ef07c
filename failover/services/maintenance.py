"""Declaring a pair in maintenance (docs/pair-states.md): an operator's statement, audited, that the pair's bad
states are expected for now. While it lasts the pair's state is "maintenance" and its alerts are silent, except
two primaries (an IP conflict hurts whatever the reason). The state is recomputed at once from the members'
latest probes."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from portal.models import AuditAction, Role
from portal.permissions import require_role
from portal.services.audit import audit_record

from ..models import Pair
from ..probing.pairs import refresh_pair_states


@transaction.atomic
def pair_maintenance_set(*, actor, pair: Pair, on: bool, note: str = "") -> Pair:
    require_role(actor, pair.organization_id, Role.OPERATOR)
    note = " ".join((note or "").split())
    if len(note) > 200:
        raise ValidationError({"note": "Keep the note under 200 characters."})
    locked = Pair.objects.select_for_update().get(pk=pair.pk)
    if on == bool(locked.maintenance_since):
        raise ValidationError("The pair is already in maintenance." if on else "The pair is not in maintenance.")
    now = timezone.now()
    Pair.objects.filter(pk=pair.pk).update(maintenance_since=now if on else None,
                                           maintenance_note=note if on else "", updated_at=now)
    audit_record(actor=actor, organization=locked.organization, action=AuditAction.ACTION, obj=locked,
                 verb="start maintenance" if on else "end maintenance", summary=note or "")
    refresh_pair_states(appliance_ids=[locked.primary_id, locked.backup_id], now=now)
    return Pair.objects.get(pk=pair.pk)
