"""Reads of the failover app, always through the tenancy chokepoint (``for_user``).

Shared module: status/dashboard reads below; pair and operation reads may be added by their owners.
"""

import statistics
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.contenttypes.prefetch import GenericPrefetch
from django.db.models import Case, Count, DateTimeField, F, IntegerField, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Least

from appliances.models import AddressKind, Appliance, ApplianceAddress
from appliances.selectors import appliance_unshown_fields
from certificates.couple import Couple
from certificates.selectors import ParityResult, couple_parities, couple_parity

from .models import (
    MEMBERS_WITH_STATUS,
    Operation,
    Pair,
    PairState,
    PairStateChange,
    StatusChange,
    SyncRecord,
    SyncResult,
)

# -- status and dashboard ---------------------------------------------------------------------------------

STATUS_HISTORY_LIMIT = 50

#: Pair columns no status page or endpoint shows (see appliances.selectors.APPLIANCE_UNSHOWN_FIELDS).
PAIR_UNSHOWN_FIELDS = ("dns_tsig_secret",)


def pair_unshown_fields() -> list[str]:
    """What to defer when loading pairs with both members for display."""
    return [*PAIR_UNSHOWN_FIELDS, *appliance_unshown_fields("primary", "backup")]


def alert_links_prefetch() -> list[GenericPrefetch]:
    """An alert's pair (its scope) and appliance (its target), loaded in one query each for a list of alerts,
    without the columns no page shows."""
    return [GenericPrefetch("scope", [Pair.objects.defer(*PAIR_UNSHOWN_FIELDS)]),
            GenericPrefetch("target", [Appliance.objects.defer(*appliance_unshown_fields())])]


def _attention_rank():
    """Most urgent state first (PairState.attention_order), as a sortable SQL expression."""
    return Case(*[When(state=state, then=Value(rank)) for rank, state in enumerate(PairState.attention_order())],
                default=Value(len(PairState.attention_order())), output_field=IntegerField())


def pair_state_counts(*, user, organization=None) -> dict:
    """{"total", "states": [{state, label, count}]} for every state, most urgent first, zeros included (one
    query)."""
    counts = Pair.objects.for_user(user).in_organization(organization).aggregate(
        total=Count("id"), **{state: Count("id", filter=Q(state=state)) for state in PairState.values}
    )
    labels = dict(PairState.choices)
    rows = [{"state": state, "label": labels[state], "count": counts[state]} for state in PairState.attention_order()]
    return {"total": counts["total"], "states": rows}


def pairs_with_last_check(pairs: QuerySet[Pair]) -> QuerySet[Pair]:
    """The pairs' sort by last check (``Pair.last_status_check_at``: the older of the members' last probes, none
    until both were probed) under that name; unindexed, like the appliances' (``with_probe_status``)."""
    checked = [F(f"{member}__probe_status__status_checked_at") for member in ("primary", "backup")]
    return pairs.alias(last_status_check_at=Case(
        When(Q(primary__probe_status__status_checked_at__isnull=True)
             | Q(backup__probe_status__status_checked_at__isnull=True), then=None),
        default=Least(*checked), output_field=DateTimeField(null=True)))


def pairs_by_attention(*, user, organization=None):
    """Pairs, those needing attention first (then the longest in their state), with both members loaded."""
    return (
        Pair.objects.for_user(user).in_organization(organization)
        .select_related("organization", *MEMBERS_WITH_STATUS)
        .defer(*pair_unshown_fields())
        .annotate(attention=_attention_rank())
        .order_by("attention", "state_since", "site_hostname")
    )


def pairs_needing_attention(*, user, organization=None, limit: int = 50) -> list[Pair]:
    """The dashboard's list: most urgent first, healthy pairs only to fill what is left of ``limit``.

    Two reads rather than one sort of the whole fleet by urgency (a computed rank no index serves: 5,000 pairs
    were sorted for every dashboard): the pairs not healthy, usually few, by urgency; then healthy ones, in the
    same order (longest in their state first), from the ``pair_healthy_order`` index."""
    pairs = pairs_by_attention(user=user, organization=organization)
    urgent = list(pairs.exclude(state=PairState.HEALTHY)[:limit])
    if len(urgent) < limit:
        urgent += pairs.filter(state=PairState.HEALTHY).order_by("state_since", "site_hostname")[:limit - len(urgent)]
    return urgent


def appliance_status_history(*, user, appliance, limit: int = STATUS_HISTORY_LIMIT) -> list[StatusChange]:
    return list(StatusChange.objects.for_user(user).filter(appliance=appliance).order_by("-at", "-id")[:limit])


def pair_status_history(*, user, pair, limit: int = STATUS_HISTORY_LIMIT) -> dict:
    """The pair's state changes and both members' status changes, newest first."""
    return {
        "pair_changes": list(PairStateChange.objects.for_user(user).filter(pair=pair).order_by("-at", "-id")[:limit]),
        "appliance_changes": list(
            StatusChange.objects.for_user(user).filter(appliance_id__in=[pair.primary_id, pair.backup_id])
            .select_related("appliance").defer(*appliance_unshown_fields("appliance")).order_by("-at", "-id")[:limit]
        ),
    }


def appliance_pairs(*, appliance, user=None) -> QuerySet[Pair]:
    """THE lookup of the pairs an appliance belongs to, on either side. ``appliance`` may be an instance, an id or
    an ``OuterRef``. Scoped to ``user`` when given; services pass none (they act on an appliance already
    authorised), as do subqueries."""
    pairs = Pair.objects.filter(Q(primary=appliance) | Q(backup=appliance))
    if user is not None:
        pairs = pairs.for_user(user)
    return pairs.select_related(*MEMBERS_WITH_STATUS)


# -- pairs and operations -----------------------------------------------------------------------------------


def pair_couple(pair, *, with_appliances: bool = False) -> Couple:
    """The pair as the certificates app sees it: two appliances that must serve the same certificate (the
    normal primary's counts). ``with_appliances`` for what talks to them (checks, replication)."""
    return Couple(
        organization_id=pair.organization_id, primary_id=pair.primary_id, backup_id=pair.backup_id,
        site_hostname=pair.site_hostname, shared_ip=pair.shared_ip, about=pair,
        primary=pair.primary if with_appliances else None, backup=pair.backup if with_appliances else None,
    )


def pair_certificate_parity(pair) -> ParityResult:
    """Served-certificate parity of the pair's members, from the stored observations (no network)."""
    return couple_parity(pair_couple(pair))


def pair_parities(pairs) -> dict[int, ParityResult]:
    """Parity of many pairs in one query (lists and the advisor), by pair id."""
    return couple_parities({pair.pk: pair_couple(pair) for pair in pairs})


def certificate_parity(pair) -> tuple[bool | None, str]:
    """Whether both members serve the same certificate, and why (pair page, establish checks)."""
    result = pair_certificate_parity(pair)
    return result.match, result.reason


def pair_site_name_of(appliance_ref) -> Subquery:
    """The site name of the unbroken pair an appliance belongs to (the certificates app's warnings check the
    appliance's certificate against it; registered in FailoverConfig.ready)."""
    pairs = appliance_pairs(appliance=appliance_ref).filter(broken_at__isnull=True)
    return Subquery(pairs.order_by("pk").values("site_hostname")[:1])


RECENT_OPERATIONS = 10
RECENT_SYNCS = 20


def pair_recent_operations(*, pair, limit: int = RECENT_OPERATIONS) -> list[Operation]:
    return list(
        Operation.objects.filter(pair=pair).select_related("requested_by", "appliance")
        .prefetch_related("steps").order_by("-created_at")[:limit]
    )


def pair_recent_syncs(*, pair, limit: int = RECENT_SYNCS) -> list[dict]:
    """The sync history, each row flagged when it ran longer than the backup's interval (it overlaps the next
    sync). The backup's settings are read from ``pair.backup`` (load them with the pair)."""
    backup_settings = getattr(pair.backup, "backup_settings", None)
    interval = backup_settings.sync_interval if backup_settings else 0
    rows = []
    for record in SyncRecord.objects.filter(pair=pair).order_by("-started_at")[:limit]:
        duration = record.duration_seconds
        rows.append({"record": record, "overlaps": bool(interval and duration and duration > interval)})
    return rows


def pair_roles_conflict(pair) -> bool:
    """Both members serve the same role: the derived state says so, or the latest probes already show it (the
    state lags by the short window a swap takes, but the operator may fix it at once)."""
    roles = {pair.primary.status_role, pair.backup.status_role}
    return pair.state in PairState.conflicts() or (len(roles) == 1 and roles <= {"primary", "backup"})


def appliance_shared_ips(*, appliance) -> list[str]:
    return [str(address) for address in ApplianceAddress.objects.filter(appliance=appliance, kind=AddressKind.SHARED)
            .order_by("address").values_list("address", flat=True)]


@dataclass(frozen=True)
class SyncCadence:
    """What the sync history shows about the backup's automatic syncs, beside what its settings say."""

    observed_interval: timedelta | None  # median gap between consecutive successful syncs
    usual_duration: timedelta | None  # median duration where the start was reported
    samples: int
    declared_interval: timedelta | None  # from settings read or declared; None when off or unknown
    advice: str = ""


#: Observed and declared intervals further apart than this factor get advice.
CADENCE_TOLERANCE = 1.5


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def pair_sync_cadence(*, pair, limit: int = RECENT_SYNCS) -> SyncCadence:
    """Observed cadence and usual duration of the pair's syncs (successful ones, newest ``limit``), beside the
    backup's declared or read interval, with advice when they disagree. The backup's settings are read from
    ``pair.backup`` (load them with the pair)."""
    records = list(SyncRecord.objects.filter(pair=pair, result=SyncResult.SUCCEEDED, finished_at__isnull=False)
                   .order_by("-finished_at").values_list("started_at", "finished_at", "start_reported")[:limit])
    ends = sorted(finished for _, finished, _ in records)
    gaps = [(later - earlier).total_seconds() for earlier, later in zip(ends, ends[1:], strict=False)]
    durations = [(finished - started).total_seconds() for started, finished, reported in records if reported]
    observed, usual = _median(gaps), _median(durations)
    settings_row = getattr(pair.backup, "backup_settings", None)
    declared = (timedelta(seconds=settings_row.sync_interval)
                if settings_row and settings_row.known and settings_row.sync_interval else None)
    advice = ""
    if observed and declared and not (1 / CADENCE_TOLERANCE <= observed / declared.total_seconds()
                                      <= CADENCE_TOLERANCE):
        advice = (f"The backup syncs about every {timedelta(seconds=round(observed))}, but its settings say every "
                  f"{declared}: check the Automatic Data-Sync Interval on the appliance, or correct the declaration.")
    return SyncCadence(observed_interval=timedelta(seconds=round(observed)) if observed else None,
                       usual_duration=timedelta(seconds=round(usual)) if usual is not None else None,
                       samples=len(records), declared_interval=declared, advice=advice)
