"""Stored best-practice findings kept up to date.

The rules live in ``failover.advisor``; this module stores what they find, one ``AdviceFinding`` per pair and
broken rule. It is called with the pairs (or appliances) whose facts just changed by every write of a fact the
rules read: pairs created, edited or deleted, backup settings saved or read, addresses, inventory and probe
readings (version, build, shared IPs), finished syncs and served certificates. The beat sweep
(``advice_sweep``) re-checks every pair in ranges of ids so that nothing drifts: a fact written by a path that
does not call back (a raw update, a restore), a sync leaving the 7-day window, a rule changed by an upgrade, and
the first fill after the table is created.

A refresh is a diff: findings still broken keep their ``since``; only changed, new and cleared rows are written.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ..advice_selectors import advice_check, pair_id_bounds
from ..models import SEVERITY_RANK, AdviceFinding, Pair

SWEEP_BATCH = 500
#: The task that refreshes many pairs' findings off the request (``failover.tasks.refresh_advice``).
REFRESH_ADVICE_TASK = "failover.refresh_advice"
#: Columns a refresh rewrites when the rule's text or severity changed (the pair and rule stay).
TEXT_FIELDS = ("severity", "rank", "title", "why", "fix", "site_hostname")


@dataclass
class AdviceRefresh:
    pairs: int = 0
    raised: int = 0
    changed: int = 0
    cleared: int = 0

    def add(self, other: AdviceRefresh) -> None:
        for name in ("pairs", "raised", "changed", "cleared"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def _row(pair_id: int, organization_id: int, finding, now) -> AdviceFinding:
    return AdviceFinding(
        organization_id=organization_id, pair_id=pair_id, code=finding.code, severity=finding.severity,
        rank=SEVERITY_RANK[finding.severity], title=finding.title, why=finding.why, fix=finding.fix,
        site_hostname=finding.pair.site_hostname, since=now, checked_at=now,
    )


@transaction.atomic
def advice_refresh(*, pair_ids: Iterable[int] = (), appliance_ids: Iterable[int] = ()) -> AdviceRefresh:
    """Re-check these pairs (and the pairs these appliances belong to) and store what the rules find now.

    A readings write, not a person's change: not audited (the change that caused it was)."""
    pair_ids = set(pair_ids)
    appliance_ids = list(appliance_ids)
    if appliance_ids:
        pair_ids.update(Pair.objects.filter(Q(primary_id__in=appliance_ids) | Q(backup_id__in=appliance_ids))
                        .values_list("pk", flat=True))
    report = AdviceRefresh()
    if not pair_ids:
        return report
    now = timezone.now()
    checked = advice_check(pair_ids)
    stored = {(row.pair_id, row.code): row
              for row in AdviceFinding.objects.select_for_update().filter(pair_id__in=list(checked))}
    found = {}
    for pair_id, findings in checked.items():
        for finding in findings:
            found[(pair_id, finding.code)] = _row(pair_id, finding.pair.organization_id, finding, now)
    new = [row for key, row in found.items() if key not in stored]
    changed = []
    for key, row in stored.items():
        fresh = found.get(key)
        if fresh is not None and any(getattr(row, name) != getattr(fresh, name) for name in TEXT_FIELDS):
            for name in (*TEXT_FIELDS, "checked_at"):
                setattr(row, name, getattr(fresh, name))
            changed.append(row)
    cleared = [row.pk for key, row in stored.items() if key not in found]
    AdviceFinding.objects.bulk_create(new)
    AdviceFinding.objects.bulk_update(changed, [*TEXT_FIELDS, "checked_at"])
    AdviceFinding.objects.filter(pk__in=cleared).delete()
    report.pairs, report.raised, report.changed, report.cleared = len(checked), len(new), len(changed), len(cleared)
    return report


def advice_sweep(*, batch_size: int = SWEEP_BATCH) -> AdviceRefresh:
    """Re-check every pair, ``batch_size`` ids at a time (one short transaction each, a few queries per batch):
    the reconciliation behind the change-driven refreshes, and the first fill of the table."""
    report = AdviceRefresh()
    low, high = pair_id_bounds()
    if low is None:
        return report
    for start in range(low, high + 1, batch_size):
        ids = Pair.objects.filter(pk__gte=start, pk__lt=start + batch_size).values_list("pk", flat=True)
        report.add(advice_refresh(pair_ids=list(ids)))
    return report
