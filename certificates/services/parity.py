"""Parity from the wire: read the certificate each appliance really serves, compare, alert on expiry and drift.

The portal opens a TLS connection to the appliance's address twice, once with the site name as SNI and once
with none (what clients without SNI get: the default certificate), and records what it saw. Drift is a couple
(two appliances that must match, e.g. a failover pair) serving different certificates, or an appliance serving
a certificate its inventory does not know.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from appliances.changes import appliances_changed
from portal.models import AlertSeverity
from portal.netpolicy import OutboundRefused, resolve_allowed
from portal.services.alerts import alert_raise

from ..alerts import CertificateAlertKind
from ..conf import expiry_threshold_days
from ..couple import Couple
from ..crypto import ServedCertificateError, fetch_served_certificate
from ..models import Certificate, ServedCertificate
from ..selectors import ParityResult, parity_from_observations


def _observe(appliance, server_name: str, inventory: set[str], now) -> ServedCertificate:
    observation = ServedCertificate.objects.filter(appliance=appliance, server_name=server_name).first()
    if observation is None:
        observation = ServedCertificate(organization_id=appliance.organization_id, appliance=appliance,
                                        server_name=server_name)
    try:
        # Held to the outbound address policy, and connected to the address that was checked.
        address = resolve_allowed(appliance.management_host, appliance.management_port, appliance.organization)
        details = fetch_served_certificate(
            address, appliance.management_port, server_name=server_name or None, timeout=appliance.probe_timeout,
        )
    except OutboundRefused as refused:
        observation.error = f"Not connecting: {refused}"[:500]
        observation.checked_at = now
        observation.save()
        return observation
    except ServedCertificateError as error:
        observation.error = error.message.replace(address, appliance.management_host)[:500]
        observation.checked_at = now
        observation.save()
        return observation
    previous = observation.fingerprint_sha256
    if previous != details.fingerprint_sha256:
        observation.previous_fingerprint = previous
        observation.changed_at = now
    observation.fingerprint_sha256 = details.fingerprint_sha256
    observation.spki_sha256 = details.spki_sha256
    observation.subject = details.subject[:1000]
    observation.issuer = details.issuer[:1000]
    observation.names = list(details.names)
    observation.not_after = details.not_after
    observation.error = ""
    observation.in_inventory = (details.fingerprint_sha256 in inventory) if inventory else None
    observation.checked_at = now
    observation.save()
    return observation


def served_refresh(*, appliance, site_hostname: str | None = None) -> list[ServedCertificate]:
    """Observe what ``appliance`` serves with ``site_hostname`` as SNI (default: its own site name) and with none."""
    site = site_hostname if site_hostname is not None else appliance.site_hostname
    inventory = set(Certificate.objects.filter(appliance=appliance).values_list("fingerprint_sha256", flat=True))
    now = timezone.now()
    names = list(dict.fromkeys([site, ""]))
    before = {_parity_facts(o) for o in ServedCertificate.objects.filter(appliance=appliance)}
    # Observations for a site name the appliance no longer serves (renamed, left its pair) would mislead parity.
    ServedCertificate.objects.filter(appliance=appliance).exclude(server_name__in=names).delete()
    observations = [_observe(appliance, name, inventory, now) for name in names]
    if {_parity_facts(o) for o in observations} != before:
        # What parity is computed from changed: whatever is derived from it (a pair's findings) is recomputed.
        appliances_changed([appliance.pk])
    return observations


def _parity_facts(observation: ServedCertificate) -> tuple:
    return observation.server_name, observation.fingerprint_sha256, observation.spki_sha256, observation.error


def _alert_expiry(appliance, observations: list[ServedCertificate], *, scope=None) -> None:
    threshold = timedelta(days=expiry_threshold_days())
    now = timezone.now()
    for observation in {o.fingerprint_sha256: o for o in observations if o.ok and o.not_after}.values():
        remaining = observation.not_after - now
        if remaining > threshold:
            continue
        expired = remaining.total_seconds() <= 0
        when = "expired" if expired else f"expires in {remaining.days} days"
        alert_raise(
            organization=appliance.organization,
            kind=CertificateAlertKind.CERTIFICATE_EXPIRY,
            dedup_key=f"certificate-expiry:{appliance.pk}:{observation.fingerprint_sha256}",
            subject=f"Certificate served by {appliance} {when}",
            body=(f"{appliance} serves the certificate {observation.subject} (SHA-256 "
                  f"{observation.fingerprint_sha256}), valid until {observation.not_after:%Y-%m-%d %H:%M} UTC. "
                  "Renew it and install the renewed certificate on both members of the pair."),
            severity=AlertSeverity.CRITICAL if expired else AlertSeverity.WARNING,
            scope=scope,
            target=appliance,
        )


def _alert_unknown_certificate(appliance, observations: list[ServedCertificate], *, scope=None) -> None:
    for observation in observations:
        if observation.in_inventory is not False:
            continue
        alert_raise(
            organization=appliance.organization,
            kind=CertificateAlertKind.CERTIFICATE_DRIFT,
            dedup_key=f"certificate-unknown:{appliance.pk}:{observation.fingerprint_sha256}",
            subject=f"{appliance} serves a certificate the portal does not know",
            body=(f"With {'SNI ' + observation.server_name if observation.server_name else 'no SNI'}, {appliance} "
                  f"serves {observation.subject} (SHA-256 {observation.fingerprint_sha256}), which is not in its "
                  "certificate inventory: it was changed outside the portal. Sync the inventory and check the pair."),
            scope=scope,
            target=appliance,
        )


@dataclass(frozen=True)
class CoupleCheck:
    parity: ParityResult
    observations: list[ServedCertificate]


def couple_certificates_check(*, couple: Couple, alert: bool = True) -> CoupleCheck:
    """Refresh both appliances' served certificates, compute parity, and alert on drift and expiry (the alerts'
    scope is ``couple.about``).

    No transaction around it: each observation is its own fact, and no row lock is held during TLS handshakes.
    """
    observations = []
    for appliance in (couple.primary, couple.backup):
        seen = served_refresh(appliance=appliance, site_hostname=couple.site_hostname)
        observations += seen
        if alert:
            _alert_expiry(appliance, seen, scope=couple.about)
            _alert_unknown_certificate(appliance, seen, scope=couple.about)
    parity = parity_from_observations(couple, observations)
    if alert and parity.match is False:
        alert_raise(
            organization=couple.organization,
            kind=CertificateAlertKind.CERTIFICATE_DRIFT,
            dedup_key=f"certificate-drift:{couple.key}",
            subject=f"{couple}: primary and backup serve different certificates",
            body=(f"{parity.reason}\nPrimary {couple.primary}: {parity.primary_fingerprint}\n"
                  f"Backup {couple.backup}: {parity.backup_fingerprint}\n"
                  "Clients could not connect after a failover. Replicate the certificate from the primary."),
            scope=couple.about,
        )
    return CoupleCheck(parity=parity, observations=observations)


def appliance_certificates_check(*, appliance, alert: bool = True) -> list[ServedCertificate]:
    """The same for an appliance outside any pair: expiry and unknown-certificate drift."""
    observations = served_refresh(appliance=appliance)
    if alert:
        _alert_expiry(appliance, observations)
        _alert_unknown_certificate(appliance, observations)
    return observations
