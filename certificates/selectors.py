"""Reads of the certificate inventory and of served-certificate parity, always through the tenancy chokepoint."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import CharField, OuterRef, Value

from .conf import expiry_threshold_days
from .couple import Couple
from .crypto import CertificateWarning, WarningCode, compare_served, evaluate
from .models import Certificate, ServedCertificate

#: ``(appliance reference) -> Subquery`` of the site name an appliance serves together with another one (its
#: failover pair's), or None. Registered by the app that knows pairs (``FailoverConfig.ready``): the warnings
#: check a paired appliance's certificate against the pair's site name.
_paired_site_name: Callable | None = None


def register_paired_site_name(subquery: Callable) -> None:
    global _paired_site_name
    _paired_site_name = subquery


def _active_pair_of(appliance_ref):
    if _paired_site_name is None:
        return Value(None, output_field=CharField())
    return _paired_site_name(appliance_ref)


def certificate_list(*, user, organization=None):
    """The certificates ``user`` may see, with what the warnings need (the appliance, its pair's site name)."""
    return (
        Certificate.objects.for_user(user)
        .in_organization(organization)
        .select_related("appliance", "organization")
        .annotate(pair_site_hostname=_active_pair_of(OuterRef("appliance")))
    )


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def warning_context(certificate: Certificate) -> dict:
    """Where the certificate is used: the names it must cover and whether its appliance is in a pair."""
    appliance = certificate.appliance
    pair_site = getattr(certificate, "pair_site_hostname", None)
    if not hasattr(certificate, "pair_site_hostname"):
        pair_site = (
            type(appliance).objects.filter(pk=appliance.pk)
            .annotate(pair_site_hostname=_active_pair_of(OuterRef("pk")))
            .values_list("pair_site_hostname", flat=True).first()
        )
    if pair_site:
        site_hostname, appliance_hostname = pair_site, appliance.site_hostname
    else:
        site_hostname = appliance.site_hostname
        appliance_hostname = "" if _is_ip(appliance.management_host) else appliance.management_host
    return {
        "site_hostname": site_hostname or None,
        "appliance_hostname": appliance_hostname or None,
        "in_failover_pair": bool(pair_site),
    }


def certificate_warnings(certificate: Certificate, *, now: datetime | None = None) -> list[CertificateWarning]:
    warnings = evaluate(
        certificate.details,
        chain=certificate.chain,
        is_default=certificate.is_default,
        is_factory=certificate.is_factory,
        now=now,
        expiry_threshold_days=expiry_threshold_days(),
        **warning_context(certificate),
    )
    if not certificate.chain_pem.strip() and certificate.appliance_has_chain:
        # Read from the appliance, which holds the chain but only lists the leaf: not known to be incomplete.
        warnings = [w for w in warnings if w.code != WarningCode.INCOMPLETE_CHAIN]
    return warnings


def with_warnings(certificates: Iterable[Certificate]) -> list[Certificate]:
    """Attach ``.warnings`` to each certificate (computed now: expiry moves with the clock)."""
    certificates = list(certificates)
    for certificate in certificates:
        certificate.warnings = certificate_warnings(certificate)
    return certificates


# --- parity -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParityCheck:
    server_name: str  # "" = no SNI
    match: bool | None
    primary_fingerprint: str | None
    backup_fingerprint: str | None
    reason: str

    @property
    def label(self) -> str:
        return f"SNI {self.server_name}" if self.server_name else "no SNI"


@dataclass(frozen=True)
class ParityResult:
    """Whether two appliances (a couple) serve the same certificate, from the latest observations.

    ``match`` is None when it is not known (never checked, or an appliance could not be read).
    """

    match: bool | None
    reason: str
    primary_fingerprint: str | None
    backup_fingerprint: str | None
    checked_at: datetime | None
    checks: tuple[ParityCheck, ...] = ()


def _check(server_name: str, primary: ServedCertificate | None, backup: ServedCertificate | None) -> ParityCheck:
    if primary is None or backup is None:
        missing = " and ".join(n for n, o in (("primary", primary), ("backup", backup)) if o is None)
        verb = "have" if primary is None and backup is None else "has"
        return ParityCheck(server_name, None, None, None, f"The {missing} {verb} not been checked yet.")
    failed = [(n, o) for n, o in (("primary", primary), ("backup", backup)) if not o.ok]
    if failed:
        reason = " ".join(f"The {n} could not be read: {o.error or 'no certificate'}" for n, o in failed)
        return ParityCheck(server_name, None, primary.fingerprint_sha256 or None, backup.fingerprint_sha256 or None,
                           reason)
    # ServedCertificate carries the two fields compare_served reads (fingerprint and public-key hash).
    comparison = compare_served(primary, backup)
    return ParityCheck(server_name, comparison.match, comparison.primary_fingerprint,
                       comparison.backup_fingerprint, comparison.reason)


def parity_from_observations(pair: Couple, observations: Iterable[ServedCertificate]) -> ParityResult:
    by_key = {(o.appliance_id, o.server_name): o for o in observations}
    checks = tuple(
        _check(name, by_key.get((pair.primary_id, name)), by_key.get((pair.backup_id, name)))
        for name in dict.fromkeys([pair.site_hostname, ""])
    )
    used = [o for o in by_key.values() if o.appliance_id in (pair.primary_id, pair.backup_id)]
    checked_at = min((o.checked_at for o in used), default=None)
    shown = next((c for c in checks if c.primary_fingerprint or c.backup_fingerprint), checks[0])
    mismatch = next((c for c in checks if c.match is False), None)
    unknown = next((c for c in checks if c.match is None), None)
    if mismatch is not None:
        match, reason = False, f"{mismatch.reason} (seen with {mismatch.label})"
        shown = mismatch
    elif unknown is not None:
        match, reason = None, unknown.reason
    else:
        match, reason = True, "Primary and backup serve the same certificate, with and without SNI."
    return ParityResult(match, reason, shown.primary_fingerprint, shown.backup_fingerprint, checked_at, checks)


def couple_parity(pair: Couple) -> ParityResult:
    """Served-certificate parity of two appliances from the stored observations (one query; no network)."""
    observations = ServedCertificate.objects.filter(
        organization_id=pair.organization_id, appliance_id__in=[pair.primary_id, pair.backup_id]
    )
    return parity_from_observations(pair, observations)


def served_certificates_for(*, user, appliance_ids: Iterable[int]):
    return ServedCertificate.objects.for_user(user).filter(appliance_id__in=list(appliance_ids))


def couple_parities(couples: dict) -> dict:
    """Parity of many couples in one query (lists and the advisor): ``{key: Couple}`` -> ``{key: ParityResult}``."""
    appliance_ids = {i for c in couples.values() for i in (c.primary_id, c.backup_id)}
    by_appliance: dict[int, list[ServedCertificate]] = {}
    for observation in ServedCertificate.objects.filter(appliance_id__in=appliance_ids):
        by_appliance.setdefault(observation.appliance_id, []).append(observation)
    return {
        key: parity_from_observations(c, by_appliance.get(c.primary_id, []) + by_appliance.get(c.backup_id, []))
        for key, c in couples.items()
    }
