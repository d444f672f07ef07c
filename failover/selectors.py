"""Reads of the failover app, always through the tenancy chokepoint (``for_user``).

Shared module: status/dashboard reads below; pair and operation reads may be added by their owners.
"""

from django.db.models import Case, Count, IntegerField, Q, Value, When

from .models import Pair, PairState, PairStateChange, StatusChange

# -- status and dashboard ---------------------------------------------------------------------------------

STATUS_HISTORY_LIMIT = 50


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


def pairs_by_attention(*, user, organization=None):
    """Pairs, those needing attention first (then the longest in their state), with both members loaded."""
    return (
        Pair.objects.for_user(user).in_organization(organization)
        .select_related("organization", "primary", "backup")
        .annotate(attention=_attention_rank())
        .order_by("attention", "state_since", "site_hostname")
    )


def pairs_needing_attention(*, user, organization=None, limit: int = 25) -> list[Pair]:
    return list(pairs_by_attention(user=user, organization=organization).exclude(state=PairState.HEALTHY)[:limit])


def appliance_status_history(*, user, appliance, limit: int = STATUS_HISTORY_LIMIT) -> list[StatusChange]:
    return list(StatusChange.objects.for_user(user).filter(appliance=appliance).order_by("-at", "-id")[:limit])


def pair_status_history(*, user, pair, limit: int = STATUS_HISTORY_LIMIT) -> dict:
    """The pair's state changes and both members' status changes, newest first."""
    return {
        "pair_changes": list(PairStateChange.objects.for_user(user).filter(pair=pair).order_by("-at", "-id")[:limit]),
        "appliance_changes": list(
            StatusChange.objects.for_user(user).filter(appliance_id__in=[pair.primary_id, pair.backup_id])
            .select_related("appliance").order_by("-at", "-id")[:limit]
        ),
    }


def appliance_pairs(*, user, appliance) -> list[Pair]:
    return list(Pair.objects.for_user(user).filter(Q(primary=appliance) | Q(backup=appliance))
                .select_related("primary", "backup"))
