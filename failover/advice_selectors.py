"""Best-practice findings: the facts the rules read (``failover.advisor``), loaded for a batch of pairs, and the
stored findings (``AdviceFinding``, kept up to date by ``failover.services.advice``) across the pairs a user can
see, grouped by rule with their counts.

Loading facts is a constant number of queries for any number of pairs: members, their backup settings and
addresses are loaded with the pairs, the slowest recent sync is an annotation, and certificate parity is the
certificates app's batch selector.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, DurationField, ExpressionWrapper, F, Max, Min, Prefetch, Q, QuerySet
from django.utils import timezone

from appliances.models import ApplianceAddress

from .advisor import RULES, Finding, PairFacts, Severity, check_pair
from .models import AdviceFinding, Pair
from .selectors import pair_parities, pair_unshown_fields

RECENT_SYNCS = timedelta(days=7)
#: What the network rules read of an address (a fleet page loads every member's addresses).
ADDRESS_FACTS = ApplianceAddress.objects.only("id", "appliance_id", "address", "prefix_length", "kind", "enabled").order_by()

CODE_CHOICES = [(code, title) for code, (title, _) in RULES.items()]
SEVERITY_CHOICES = Severity.choices


def _pairs_with_facts(pairs: QuerySet) -> QuerySet:
    since = timezone.now() - RECENT_SYNCS
    duration = ExpressionWrapper(F("syncs__finished_at") - F("syncs__started_at"), output_field=DurationField())
    return (
        pairs.select_related("organization", "primary__backup_settings", "backup__backup_settings")
        .prefetch_related(*(Prefetch(f"{member}__addresses", queryset=ADDRESS_FACTS) for member in ("primary", "backup")))
        # No rule reads the secrets or the CA bundles: loading them decrypted two secrets per pair.
        .defer(*pair_unshown_fields())
        .annotate(slowest_sync=Max(duration, filter=Q(syncs__started_at__gte=since, syncs__finished_at__isnull=False)))
        .order_by("pk")
    )


def _facts(pair, parity: tuple[bool | None, str]) -> PairFacts:
    match, reason = parity
    # Settings never read nor declared are defaults: no advice is drawn from them (one finding says so instead).
    known = {member.pk: row for member in pair.members
             if (row := getattr(member, "backup_settings", None)) is not None and row.known}
    return PairFacts(
        primary_settings=known.get(pair.primary_id),
        backup_settings=known.get(pair.backup_id),
        unknown_settings=tuple(member.name for member in pair.members if member.pk not in known),
        slowest_recent_sync_seconds=pair.slowest_sync.total_seconds() if pair.slowest_sync else None,
        certificate_match=match, certificate_reason=reason,
    )


def advice_check(pair_ids) -> dict[int, list[Finding]]:
    """What the rules find now for these pairs (every pair's list, empty when it follows every practice); pairs
    that no longer exist are absent. Not scoped to a user: the advice service's input."""
    rows = list(_pairs_with_facts(Pair.objects.filter(pk__in=list(pair_ids))))
    parities = {pk: (result.match, result.reason) for pk, result in pair_parities(rows).items()}
    return {row.pk: check_pair(row, _facts(row, parities.get(row.pk, (None, "")))) for row in rows}


def pair_id_bounds() -> tuple[int | None, int | None]:
    """Lowest and highest pair id: the advice sweep walks the ids between them in ranges."""
    bounds = Pair.objects.aggregate(low=Min("pk"), high=Max("pk"))
    return bounds["low"], bounds["high"]


def advice_list(*, user, organization=None, pair=None, code: str = "", severity: str = "", q: str = "") -> QuerySet:
    """The stored findings of every visible pair (or one), most severe first then by site name, optionally
    filtered by rule, severity or site name."""
    findings = AdviceFinding.objects.for_user(user).select_related("organization")
    if organization is not None:
        findings = findings.filter(organization=organization)
    if pair is not None:
        findings = findings.filter(pair=pair)
    if code:
        findings = findings.filter(code=code)
    if severity:
        findings = findings.filter(severity=severity)
    if q:
        findings = findings.filter(site_hostname__icontains=q)
    return findings.order_by("rank", "site_hostname", "pair_id", "code")


@dataclass(frozen=True)
class AdviceGroup:
    """One rule's findings counted, for the fleet page's summary."""

    code: str
    title: str
    severity: str
    count: int


def advice_groups(findings: QuerySet) -> list[AdviceGroup]:
    """The findings grouped by rule with their counts (one query), the most severe and then the most frequent
    first."""
    counts = (findings.order_by().values("code", "severity", "rank").annotate(count=Count("pk"))
              .order_by("rank", "-count", "code"))
    return [AdviceGroup(row["code"], RULES[row["code"]][0] if row["code"] in RULES else row["code"], row["severity"],
                        row["count"]) for row in counts]
