"""Appliance rows -> driver ProbeTargets (the driver knows nothing about Django models)."""

from __future__ import annotations

from functools import lru_cache

from appliances.drivers import ApplianceAddress, Credentials, ProbeTarget, Timeouts, TrustSettings


@lru_cache(maxsize=1024)
def _trust(ca_pem: str, pin: str) -> TrustSettings:
    # A fleet shares a handful of CA bundles; building (and validating) one TrustSettings per bundle, not per
    # appliance, keeps a 10,000-appliance sweep from re-checking the same PEM 10,000 times.
    return TrustSettings(ca_pem=ca_pem or None, pin=pin or None)


def probe_target(appliance) -> ProbeTarget:
    """Raises ValueError when the appliance cannot be probed (no credentials or no trust anchor)."""
    if not appliance.client_id or not appliance.client_secret:
        raise ValueError("No API credentials are configured for this appliance.")
    timeout = float(appliance.probe_timeout)
    return ProbeTarget(
        address=ApplianceAddress(appliance.management_host, appliance.management_port),
        credentials=Credentials(appliance.client_id, appliance.client_secret),
        trust=_trust(appliance.ca_bundle or "", (appliance.tls_pin or "").strip()),
        timeouts=Timeouts(connect=timeout, total=timeout),
        ref=appliance.pk,
    )
