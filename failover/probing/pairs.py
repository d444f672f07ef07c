"""Recompute the derived state of the pairs some appliances belong to, writing history on transitions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import NamedTuple

from django.db.models import Q

from appliances.models import Appliance
from appliances.selectors import APPLIANCE_UNSHOWN_FIELDS
from portal.bulk import bulk_update_rows

from ..maintenance_selectors import windows_covering
from ..models import Operation, OperationStatus, Pair, PairStateChange
from ..pair_state import derive_pair_state, second_primary, serves_as_primary
from ..selectors import PAIR_UNSHOWN_FIELDS

PAIR_STATUS_FIELDS = [
    "state",
    "state_since",
    "state_reason",
    "primary_unreachable_since",
    "both_backup_since",
    "last_sync_at",
    "roles_seen",
    "epoch",
    "last_outside_change",
]


# Never read to derive a pair's state either; deferred so that loading rows costs no decryption.
_UNUSED_MEMBER_FIELDS = APPLIANCE_UNSHOWN_FIELDS
_UNUSED_PAIR_FIELDS = PAIR_UNSHOWN_FIELDS


class PairRefresh(NamedTuple):
    written: int  # pair rows rewritten
    state_changes: int  # state changes recorded
    #: Pairs where a member answers as primary beside one serving as primary (confirmed or not yet: the first
    #: answer counts), for the caller to ask for the fencing rule at once (services/fencing.py).
    second_primaries: int = 0


def refresh_pair_states(*, appliance_ids: Iterable[int], now: datetime,
                        known: Mapping[int, Appliance] | None = None) -> PairRefresh:
    """Recompute and write the pairs these appliances belong to (see ``PairRefresh``). Runs inside the caller's transaction (it locks the
    pairs until that commits).

    ``known``: appliances (by pk) the caller holds with their current status (the probe batch just wrote
    them); only the other members are loaded. Measured on a 10,000-appliance sweep, re-loading every member
    (``select_related``: full rows, the API secret decrypted again) was the biggest part of the write phase.
    """
    ids = list(appliance_ids)
    if not ids:
        return PairRefresh(0, 0)
    known = known or {}
    # Locked in pk order: two batches sharing pairs wait for each other instead of deadlocking, and the one that
    # waited derives from the other's committed member rows (loaded below, after the lock) rather than from
    # rows it read before the other batch wrote them.
    pairs = list(Pair.objects.select_for_update().filter(Q(primary_id__in=ids) | Q(backup_id__in=ids))
                 .defer(*_UNUSED_PAIR_FIELDS).order_by("pk"))
    missing = {pk for pair in pairs for pk in (pair.primary_id, pair.backup_id) if pk not in known}
    members = {**known, **Appliance.objects.defer(*_UNUSED_MEMBER_FIELDS).select_related("probe_status")
                .in_bulk(missing)} if missing else known
    # A member deleted meanwhile takes its pair with it (cascade): nothing left to derive for that pair.
    pairs = [pair for pair in pairs if pair.primary_id in members and pair.backup_id in members]
    for pair in pairs:
        pair.primary, pair.backup = members[pair.primary_id], members[pair.backup_id]
    return refresh_pairs(pairs, now=now)


def _roles(pair) -> str:
    return f"{pair.primary.status_role or '?'}/{pair.backup.status_role or '?'}"


def _outside_change(pair, *, now: datetime, operating: set[int]) -> PairStateChange | None:
    """Record a role change the portal did not make: bump the epoch, so an operation planned before it is fenced
    off, and remember who became primary for Fix this error.

    ``roles_seen`` is "<epoch>:<roles>": the roles last reported and the epoch they were seen at. A change seen at
    another epoch is explained by the portal's own role change (every one bumps the epoch), as is one seen while
    a portal operation runs on the pair."""
    seen = _roles(pair)
    epoch_then, _, before = (pair.roles_seen or "").partition(":")
    pair.roles_seen = f"{pair.epoch}:{seen}"
    if not before or before == seen or pair.pk in operating or epoch_then != str(pair.epoch):
        return None
    # Only a member confirmed up counts: one away (or answering again, not yet believed up) keeps a role it
    # reported before the change, so after "A down, B promoted" B alone is primary and A, back, is the stale one.
    primaries = [m for m in pair.members if serves_as_primary(m)]
    pair.epoch += 1
    pair.roles_seen = f"{pair.epoch}:{seen}"
    pair.last_outside_change = {"at": now.isoformat(), "epoch": pair.epoch,
                                "primary": primaries[0].pk if len(primaries) == 1 else None}
    names = f"{pair.primary.name}/{pair.backup.name}"
    return PairStateChange(
        organization_id=pair.organization_id, pair=pair, at=now, state=pair.state, previous_state=pair.state,
        reason=(f"Roles changed outside the portal ({names}: {before} → {seen}), e.g. the appliance's own "
                f"failover or /login; epoch {pair.epoch - 1} → {pair.epoch}.")[:300])


def refresh_pairs(pairs: list[Pair], *, now: datetime) -> PairRefresh:
    changed, history = [], []
    second_primaries = sum(1 for pair in pairs if second_primary(pair.primary, pair.backup) is not None)
    # Pairs with a portal operation in flight: a role change seen now is that operation's (it bumps the epoch).
    operating = set(Operation.objects.filter(pair__in=[p.pk for p in pairs], status__in=OperationStatus.active())
                    .values_list("pair_id", flat=True)) if pairs else set()
    windows = windows_covering(pairs, now=now) if pairs else {}
    for pair in pairs:
        epoch_before, roles_before = pair.epoch, pair.roles_seen
        outside = _outside_change(pair, now=now, operating=operating)
        if outside is not None:
            history.append(outside)
        status = derive_pair_state(pair=pair, primary=pair.primary, backup=pair.backup, now=now,
                                   window=windows.get(pair.pk))
        values = {
            "state_reason": status.reason,
            "primary_unreachable_since": status.primary_unreachable_since,
            "both_backup_since": status.both_backup_since,
            "last_sync_at": status.last_sync_at,
        }
        if status.state != pair.state:
            history.append(PairStateChange(organization_id=pair.organization_id, pair=pair, at=now,
                                           state=status.state, previous_state=pair.state, reason=status.reason))
            values.update(state=status.state, state_since=now)
        if (any(getattr(pair, name) != value for name, value in values.items())
                or pair.epoch != epoch_before or pair.roles_seen != roles_before):
            for name, value in values.items():
                setattr(pair, name, value)
            changed.append(pair)
    if changed:
        bulk_update_rows(Pair, changed, PAIR_STATUS_FIELDS)
    if history:
        PairStateChange.objects.bulk_create(history)
    return PairRefresh(len(changed), len(history), second_primaries)
