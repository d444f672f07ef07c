"""Claiming due appliances so that two dispatchers (or two beat ticks) never probe one appliance twice."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q

from appliances.models import ApplianceProbeStatus

from ..schedules import PROBE_DISPATCH_SECONDS

#: An appliance due before the *middle* of the coming tick interval is claimed at this tick: due times are
#: rounded to the nearest tick, not the next one. With "due <= now" a probe due at 10:00:05.30 (the previous
#: claim ran 0.3 s after its tick, plus the interval) missed the tick that ran at 10:00:05.10 and waited for
#: the one after: an interval of 5 s probed every 10 s, and each of the anti-flap re-checks paid a whole
#: extra tick (issue 16: detection 30 s where 3 x 5 s was due).
DUE_TOLERANCE = timedelta(seconds=PROBE_DISPATCH_SECONDS / 2)


def claim_lease_seconds() -> int:
    # A claimed appliance is not due again for this long; if its batch is lost (worker killed), it comes back.
    return settings.PROBE_CLAIM_LEASE_SECONDS


def claim_lease_until(*, now: datetime) -> datetime:
    """The ``next_probe_at`` a claim made at ``now`` writes: it identifies the claim. A batch given it probes
    and writes only the rows that still hold it, so a batch that outlived its lease (redelivered, stuck) does
    not overwrite what the batch of the newer claim recorded."""
    return now + timedelta(seconds=claim_lease_seconds())


def claim_due_appliances(*, now: datetime, limit: int) -> list[int]:
    """Ids of up to ``limit`` due appliances (due by ``now`` + ``DUE_TOLERANCE``), most overdue first, leased to
    the caller.

    Appliances never claimed (inserted in bulk: no probe-status row yet) come first: the claim creates their row.
    ``FOR UPDATE SKIP LOCKED`` lets a concurrent dispatcher take the *next* rows instead of waiting for ours;
    pushing ``next_probe_at`` past the lease in the same transaction makes them not due for anyone else. The
    rows are the appliances' narrow probe-status rows, scanned (``next_probe_at`` has no index, so that each
    probe's write of it is a HOT update; at 10,000 appliances the scan reads about a hundred pages).
    The batch that probes them sets the real ``next_probe_at`` (the claim time + the appliance's probe interval,
    ``transitions.next_probe_delay``).
    """
    lease_until = claim_lease_until(now=now)
    with transaction.atomic():
        ids = ApplianceProbeStatus.missing_claim(next_probe_at=lease_until, limit=limit)
        if len(ids) < limit:
            due = list(
                ApplianceProbeStatus.objects.select_for_update(skip_locked=True)
                .filter(Q(next_probe_at__isnull=True) | Q(next_probe_at__lte=now + DUE_TOLERANCE))
                .order_by(F("next_probe_at").asc(nulls_first=True), "pk")
                .values_list("pk", flat=True)[: limit - len(ids)]
            )
            if due:
                ApplianceProbeStatus.objects.filter(pk__in=due).update(next_probe_at=lease_until)
            ids += due
    return ids
