"""Pairs the probes suggest: unpaired appliances of one organisation, one reporting primary and one backup, that
share a recorded site name or a shared IP. Proposals only: adopting one reads both appliances again."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q

from appliances.models import AddressKind, Appliance, FailoverRole
from appliances.selectors import appliance_unshown_fields

from .models import Pair


@dataclass(frozen=True)
class AdoptionProposal:
    primary: Appliance
    backup: Appliance
    reason: str


@dataclass(frozen=True)
class RecordedPairs:
    """What the recorded pairs say about appliances being adopted: the site of the pair each one is already in,
    and the site names the organisation's pairs serve. Read once for a whole file, not once per row."""

    member_sites: dict[int, str]
    sites: frozenset[str]


def recorded_pairs(*, organization_id: int, appliance_ids) -> RecordedPairs:
    ids = list(appliance_ids)
    member_sites = {}
    for primary_id, backup_id, site in (Pair.objects.filter(Q(primary_id__in=ids) | Q(backup_id__in=ids))
                                        .values_list("primary_id", "backup_id", "site_hostname")):
        member_sites.update({primary_id: site, backup_id: site})
    sites = frozenset(Pair.objects.filter(organization_id=organization_id).values_list("site_hostname", flat=True))
    return RecordedPairs(member_sites=member_sites, sites=sites)


def _shared_ips(appliance: Appliance) -> set[str]:
    recorded = {str(a.address) for a in appliance.addresses.all() if a.kind == AddressKind.SHARED}
    return recorded | {str(ip) for ip in appliance.status_shared_ips or []}


def _site(appliance: Appliance) -> str:
    return appliance.site_hostname.strip().lower()


def unpaired_appliances(*, user, organization=None):
    # Two NOT EXISTS, one per side: PostgreSQL turns each into a hash anti-join, where the one subquery with an OR
    # was run once per appliance (the pair list page counts the proposals on every view).
    as_primary = Pair.objects.filter(primary=OuterRef("pk"))
    as_backup = Pair.objects.filter(backup=OuterRef("pk"))
    return (Appliance.objects.for_user(user).in_organization(organization)
            .exclude(Exists(as_primary)).exclude(Exists(as_backup))
            .defer(*appliance_unshown_fields()).prefetch_related("addresses").order_by("organization_id", "name"))


def adoption_proposals(*, user, organization=None) -> list[AdoptionProposal]:
    """One proposal per primary that matches exactly one backup (and that backup no other primary)."""
    candidates = unpaired_appliances(user=user, organization=organization).filter(
        status_role__in=[FailoverRole.PRIMARY, FailoverRole.BACKUP])
    by_org: dict[int, list[Appliance]] = defaultdict(list)
    for appliance in candidates:
        by_org[appliance.organization_id].append(appliance)
    proposals = []
    for appliances in by_org.values():
        primaries = [a for a in appliances if a.status_role == FailoverRole.PRIMARY]
        # Each backup's site and shared IPs once, indexed: a new customer's fleet is thousands of unpaired
        # appliances, and comparing every primary with every backup on each pair list view was quadratic.
        backup_ips: dict[int, set[str]] = {}
        by_site: dict[str, list[Appliance]] = defaultdict(list)
        by_ip: dict[str, list[Appliance]] = defaultdict(list)
        for backup in (a for a in appliances if a.status_role == FailoverRole.BACKUP):
            backup_ips[backup.pk] = _shared_ips(backup)
            if _site(backup):
                by_site[_site(backup)].append(backup)
            for ip in backup_ips[backup.pk]:
                by_ip[ip].append(backup)
        matches: dict[int, list[tuple[Appliance, str]]] = {}
        claimed: dict[int, int] = defaultdict(int)
        for primary in primaries:
            site, ips = _site(primary), _shared_ips(primary)
            found = [(backup, f"same site name {site}") for backup in by_site.get(site, [])] if site else []
            same_site = {backup.pk for backup, _ in found}
            by_ip_match = {backup.pk: backup for ip in ips for backup in by_ip.get(ip, [])}
            for pk, backup in by_ip_match.items():
                if pk not in same_site:
                    found.append((backup, f"shared IP {', '.join(sorted(ips & backup_ips[pk]))}"))
            matches[primary.pk] = found
            for backup, _ in found:
                claimed[backup.pk] += 1
        for primary in primaries:
            found = matches[primary.pk]
            if len(found) == 1 and claimed[found[0][0].pk] == 1:
                backup, reason = found[0]
                proposals.append(AdoptionProposal(primary=primary, backup=backup,
                                                  reason=f"{primary.name} reports primary, {backup.name} reports "
                                                         f"backup, {reason}"))
    return proposals
