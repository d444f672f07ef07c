"""THE place that turns what the inventory records about an appliance (address, credentials, trust) into a
driver client, for a named purpose. The purpose decides the time budget, so nobody picks a number at the call
site: probing, operations, certificates, backups and RMA all build their clients here."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache

from django.core.exceptions import ValidationError

from .drivers import ApplianceAddress, ApplianceClient, Credentials, ProbeTarget, Timeouts, TrustSettings


class ClientPurpose(StrEnum):
    #: The probe loop: the appliance's own probe timeout, connect included (a probe is one short call).
    PROBE = "probe"
    #: A person waits on a page for one call: the appliance's probe timeout.
    INTERACTIVE = "interactive"
    #: A worker runs an operation step: a role change without "sync first" answers only once the swap is over.
    OPERATION = "operation"
    #: Downloading a configuration backup (a large file).
    BACKUP = "backup"
    #: Certificate inventory, import, default choice, replication: a service call nobody waits on for long.
    CERTIFICATE = "certificate"
    #: Checking an RMA replacement (or the members of its pair) while the operator records a step.
    REPLACEMENT = "replacement"


#: Seconds per purpose; PROBE and INTERACTIVE use the appliance's ``probe_timeout``. OPERATION stays below the
#: pair lock's TTL (failover.operations.locks): no single call may outlive the lock that guards it.
PURPOSE_TIMEOUTS: dict[ClientPurpose, float] = {
    ClientPurpose.OPERATION: 45.0,
    ClientPurpose.BACKUP: 300.0,
    ClientPurpose.CERTIFICATE: 30.0,
    ClientPurpose.REPLACEMENT: 15.0,
}
#: Connecting (TCP + TLS) never needs longer than this, whatever the request's own budget.
CONNECT_TIMEOUT_CAP = 10.0


def purpose_timeout(purpose: ClientPurpose, appliance=None) -> float:
    if purpose in (ClientPurpose.PROBE, ClientPurpose.INTERACTIVE):
        return float(appliance.probe_timeout)
    return PURPOSE_TIMEOUTS[purpose]


def client_for(*, host: str, port: int, client_id: str, client_secret: str, trust: TrustSettings,
               purpose: ClientPurpose) -> ApplianceClient:
    """A client for an address not (yet) in the inventory, e.g. an RMA replacement being checked; the
    credentials may be empty (the health call answers without them)."""
    timeout = purpose_timeout(purpose)
    credentials = Credentials(client_id, client_secret) if client_id else None
    return ApplianceClient(
        ApplianceAddress(host, port), credentials, trust,
        timeouts=Timeouts(connect=min(timeout, CONNECT_TIMEOUT_CAP), total=timeout),
    )


def appliance_client(appliance, *, purpose: ClientPurpose = ClientPurpose.CERTIFICATE) -> ApplianceClient:
    """The driver client of an inventory appliance. Refuses early (a form error, not a 500) when the appliance has
    no API account, since every API call would fail anyway."""
    if not appliance.client_id or not appliance.client_secret:
        raise ValidationError(f"{appliance} has no API credentials; add them in the inventory so the portal can "
                              "reach it.")
    timeout = purpose_timeout(purpose, appliance)
    return ApplianceClient(
        ApplianceAddress(appliance.management_host, appliance.management_port),
        Credentials(appliance.client_id, appliance.client_secret), appliance.trust,
        timeouts=Timeouts(connect=min(timeout, CONNECT_TIMEOUT_CAP), total=timeout),
    )


@lru_cache(maxsize=1024)
def _trust(ca_pem: str, pin: str) -> TrustSettings:
    # A fleet shares a handful of CA bundles; building (and validating) one TrustSettings per bundle, not per
    # appliance, keeps a 10,000-appliance sweep from re-checking the same PEM 10,000 times.
    return TrustSettings(ca_pem=ca_pem or None, pin=pin or None)


def probe_target(appliance) -> ProbeTarget:
    """The probe loop's form of a client (the batch driver probes many at once). Raises ValueError when the
    appliance cannot be probed (no credentials or no trust anchor)."""
    if not appliance.client_id or not appliance.client_secret:
        raise ValueError("No API credentials are configured for this appliance.")
    timeout = purpose_timeout(ClientPurpose.PROBE, appliance)
    return ProbeTarget(
        address=ApplianceAddress(appliance.management_host, appliance.management_port),
        credentials=Credentials(appliance.client_id, appliance.client_secret),
        trust=_trust(appliance.ca_bundle or "", (appliance.tls_pin or "").strip()),
        timeouts=Timeouts(connect=timeout, total=timeout),
        ref=appliance.pk,
    )
