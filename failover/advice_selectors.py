"""Best-practice findings across the pairs a user can see (rules in ``failover.advisor``).

A constant number of queries for any number of pairs: members, their backup settings and addresses are
loaded with the pairs, and the slowest recent sync is an annotation. Certificate parity comes from the
certificates app (its batch selector when present).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import DurationField, ExpressionWrapper, F, Max, Prefetch, Q
from django.utils import timezone

from appliances.models import ApplianceAddress

from .advisor import RULES, Finding, PairFacts, Severity, check_pair
from .models import Pair
from .selectors import pair_parities, pair_unshown_fields

RECENT_SYNCS = timedelta(days=7)
#: What the network rules read of an address (a fleet page loads every member's addresses).
ADDRESS_FACTS = ApplianceAddress.objects.only("id", "appliance_id", "address", "prefix_length", "kind", "enabled").order_by()

CODE_CHOICES = [(code, title) for code, (title, _) in RULES.items()]
SEVERITY_CHOICES = Severity.choices


def _pairs(*, user, organization=None, pair_ids=None):
    since = timezone.now() - RECENT_SYNCS
    duration = ExpressionWrapper(F("syncs__finished_at") - F("syncs__started_at"), output_field=DurationField())
    queryset = (
        Pair.objects.for_user(user).in_organization(organization)
        .select_related("organization", "primary__backup_settings", "backup__backup_settings")
        .prefetch_related(*(Prefetch(f"{member}__addresses", queryset=ADDRESS_FACTS) for member in ("primary", "backup")))
        # No rule reads the secrets or the CA bundles: loading them decrypted two secrets per pair.
        .defer(*pair_unshown_fields())
        .annotate(slowest_sync=Max(duration, filter=Q(syncs__started_at__gte=since, syncs__finished_at__isnull=False)))
        .order_by("site_hostname")
    )
    if pair_ids is not None:
        queryset = queryset.filter(pk__in=pair_ids)
    return queryset


def _parities(pairs: list[Pair]) -> dict[int, tuple[bool | None, str]]:
    """Certificate parity of every pair, in one query."""
    return {pk: (result.match, result.reason) for pk, result in pair_parities(pairs).items()}


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


def advice_list(*, user, organization=None, pair=None, code: str = "", severity: str = "", q: str = "") -> list[Finding]:
    """Findings for every visible pair (or one), optionally filtered by rule, severity or site name."""
    queryset = _pairs(user=user, organization=organization, pair_ids=[pair.pk] if pair is not None else None)
    if q:
        queryset = queryset.filter(site_hostname__icontains=q)
    rows = list(queryset)
    parities = _parities(rows)
    findings = []
    for row in rows:
        for finding in check_pair(row, _facts(row, parities.get(row.pk, (None, "")))):
            if (not code or finding.code == code) and (not severity or finding.severity == severity):
                findings.append(finding)
    return findings


@dataclass(frozen=True)
class AdviceGroup:
    """One rule's findings counted, for the fleet page's summary."""

    code: str
    title: str
    severity: str
    count: int


_SEVERITY_ORDER = {severity: rank for rank, (severity, _label) in enumerate(Severity.choices)}


def advice_groups(findings: list[Finding]) -> list[AdviceGroup]:
    """The findings grouped by rule with their counts, the most severe and then the most frequent first."""
    counts = Counter((finding.code, finding.severity) for finding in findings)
    groups = [AdviceGroup(code, RULES[code][0], severity, count) for (code, severity), count in counts.items()]
    return sorted(groups, key=lambda g: (_SEVERITY_ORDER.get(g.severity, len(_SEVERITY_ORDER)), -g.count, g.code))
