"""Recompute the derived state of the pairs some appliances belong to, writing history on transitions."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db.models import Q

from ..models import Pair, PairStateChange
from ..services.pair_state import derive_pair_state
from .bulk import bulk_update_rows

PAIR_STATUS_FIELDS = [
    "state",
    "state_since",
    "state_reason",
    "primary_unreachable_since",
    "both_backup_since",
    "last_status_check_at",
    "last_sync_at",
]


def refresh_pair_states(*, appliance_ids: Iterable[int], now: datetime) -> tuple[int, int]:
    """Returns (pairs rewritten, state changes recorded). Runs inside the caller's transaction."""
    ids = list(appliance_ids)
    if not ids:
        return 0, 0
    pairs = list(Pair.objects.filter(Q(primary_id__in=ids) | Q(backup_id__in=ids)).select_related("primary", "backup"))
    return refresh_pairs(pairs, now=now)


def refresh_pairs(pairs: list[Pair], *, now: datetime) -> tuple[int, int]:
    changed, history = [], []
    for pair in pairs:
        status = derive_pair_state(pair=pair, primary=pair.primary, backup=pair.backup, now=now)
        values = {
            "state_reason": status.reason,
            "primary_unreachable_since": status.primary_unreachable_since,
            "both_backup_since": status.both_backup_since,
            "last_status_check_at": status.last_status_check_at,
            "last_sync_at": status.last_sync_at,
        }
        if status.state != pair.state:
            history.append(PairStateChange(organization_id=pair.organization_id, pair=pair, at=now,
                                           state=status.state, previous_state=pair.state, reason=status.reason))
            values.update(state=status.state, state_since=now)
        if any(getattr(pair, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(pair, name, value)
            changed.append(pair)
    if changed:
        bulk_update_rows(Pair, changed, PAIR_STATUS_FIELDS)
    if history:
        PairStateChange.objects.bulk_create(history)
    return len(changed), len(history)
