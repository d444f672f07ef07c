"""THE place that turns what the inventory records about an appliance (address, credentials, trust) into a
driver client, for a named purpose. The purpose decides the time budget, so nobody picks a number at the call
site: probing, operations, certificates, backups and RMA all build their clients here."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from enum import StrEnum
from functools import lru_cache
from typing import TypeVar

from django.core.exceptions import ValidationError

from portal.netpolicy import OutboundRefused, resolve_allowed

from .drivers import (
    ApplianceAddress,
    ApplianceClient,
    ApplianceError,
    ApplianceTLSError,
    ApplianceUnreachable,
    Credentials,
    ProbeTarget,
    Timeouts,
    TrustSettings,
    perform_many,
)
from .drivers.operations import Operation, Operations


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
    #: "Test connection": a person waits for a few calls in a row (with or without an API account).
    CONNECTION_TEST = "connection_test"


#: Seconds per purpose; PROBE and INTERACTIVE use the appliance's ``probe_timeout``. OPERATION stays below the
#: pair lock's TTL (failover.operations.locks): no single call may outlive the lock that guards it.
PURPOSE_TIMEOUTS: dict[ClientPurpose, float] = {
    ClientPurpose.OPERATION: 45.0,
    ClientPurpose.BACKUP: 300.0,
    ClientPurpose.CERTIFICATE: 30.0,
    ClientPurpose.REPLACEMENT: 15.0,
    ClientPurpose.CONNECTION_TEST: 15.0,
}
#: Connecting (TCP + TLS) never needs longer than this, whatever the request's own budget.
CONNECT_TIMEOUT_CAP = 10.0


def purpose_timeout(purpose: ClientPurpose, appliance=None) -> float:
    if purpose in (ClientPurpose.PROBE, ClientPurpose.INTERACTIVE):
        return float(appliance.probe_timeout)
    return PURPOSE_TIMEOUTS[purpose]


def purpose_timeouts(purpose: ClientPurpose, appliance=None) -> Timeouts:
    """A probe is one short call whose whole budget (connect included) is the appliance's probe timeout; every other
    purpose caps its connect at ``CONNECT_TIMEOUT_CAP``."""
    timeout = purpose_timeout(purpose, appliance)
    return Timeouts(connect=timeout if purpose == ClientPurpose.PROBE else min(timeout, CONNECT_TIMEOUT_CAP),
                    total=timeout)


def contact_failure_text(error: ApplianceError) -> str:
    """What a person sees when a call they triggered failed. A refused connection, a silent port and a service that
    does not speak TLS read the same, so a host and port typed into the portal cannot be used to scan a network;
    what only an appliance can answer (a pin mismatch, refused credentials, an API error) stays specific."""
    pin_mismatch = isinstance(error, ApplianceTLSError) and "pin mismatch" in error.detail
    if isinstance(error, ApplianceUnreachable) and error.detail.startswith("not connecting:"):
        return str(error)  # the outbound address policy's refusal: says which rule, not what is there
    if isinstance(error, ApplianceUnreachable) or (isinstance(error, ApplianceTLSError) and not pin_mismatch):
        return (f"{error.address}: no appliance API answered (no answer, connection refused, or the TLS "
                "handshake or verification failed)")
    return str(error)


def outbound_guard(organization):
    """The driver's address guard for ``organization``: resolve, check against the outbound address policy, and
    connect to the checked address. A refusal is an unreachable appliance to every caller (probe, page, task)."""

    def guard(address: ApplianceAddress) -> str:
        try:
            return resolve_allowed(address.host, address.port, organization)
        except OutboundRefused as exc:
            raise ApplianceUnreachable(f"not connecting: {exc}", address=str(address)) from None

    return guard


def client_for(*, host: str, port: int, client_id: str, client_secret: str, trust: TrustSettings,
               purpose: ClientPurpose, organization) -> ApplianceClient:
    """A client for an address not (yet) in the inventory, e.g. an RMA replacement being checked; the
    credentials may be empty (the health call answers without them)."""
    credentials = Credentials(client_id, client_secret) if client_id else None
    return ApplianceClient(
        ApplianceAddress(host, port), credentials, trust, timeouts=purpose_timeouts(purpose),
        address_guard=outbound_guard(organization),
    )


def appliance_client(appliance, *, purpose: ClientPurpose = ClientPurpose.CERTIFICATE) -> ApplianceClient:
    """The driver client of an inventory appliance. Refuses early (a form error, not a 500) when the appliance has
    no API account, since every API call would fail anyway."""
    if not appliance.client_id or not appliance.client_secret:
        raise ValidationError(f"{appliance} has no API credentials; add them in the inventory so the portal can "
                              "reach it.")
    return ApplianceClient(
        ApplianceAddress(appliance.management_host, appliance.management_port),
        Credentials(appliance.client_id, appliance.client_secret), appliance.trust,
        timeouts=purpose_timeouts(purpose, appliance),
        address_guard=outbound_guard(appliance.organization),
    )


T = TypeVar("T")


def _clients(appliances: Iterable, purpose: ClientPurpose) -> tuple[dict[int, ApplianceClient], dict[int, str]]:
    """The client of each appliance (once per pk), and by pk why an appliance has none (no API account)."""
    clients, refused = {}, {}
    for appliance in {appliance.pk: appliance for appliance in appliances}.values():
        try:
            clients[appliance.pk] = appliance_client(appliance, purpose=purpose)
        except ValidationError as exc:
            refused[appliance.pk] = " ".join(exc.messages)
    return clients, refused


def read_concurrently(appliances: Iterable, read: Callable[[ApplianceClient], T], *, purpose: ClientPurpose,
                      concurrency: int, name: str) -> tuple[dict[int, T], dict[int, str]]:
    """``read(client)`` for each appliance (once per pk), ``concurrency`` at a time. Clients are built here, so the
    threads never touch the database (a deferred secret column would load on another connection). Returns the
    results by pk, and by pk why an appliance had no client (no API account)."""
    clients, refused = _clients(appliances, purpose)
    with ThreadPoolExecutor(max_workers=min(concurrency, max(1, len(clients))), thread_name_prefix=name) as pool:
        results = dict(zip(clients, pool.map(read, clients.values()), strict=True))
    return results, refused


def read_many(appliances: Iterable, operation: Callable[[Operations], Operation[T]], *, purpose: ClientPurpose,
              concurrency: int) -> tuple[dict[int, T], dict[int, str]]:
    """``read_concurrently`` for thousands of appliances: ``operation(client.operations)`` (the driver's calls
    written as one generator) for each, ``concurrency`` transfers at once on one pycurl multi handle in this
    thread (``perform_many``), so the CA store is built once and no thread pool contends for the GIL. The
    operation handles its own errors; one it lets escape is that appliance's ``ApplianceError`` value."""
    clients, refused = _clients(appliances, purpose)
    results = perform_many([(client, operation(client.operations)) for client in clients.values()],
                           concurrency=concurrency)
    return {pk: (result.value if result.ok else result.error)
            for pk, result in zip(clients, results, strict=True)}, refused


@lru_cache(maxsize=1024)
def _trust(ca_pem: str, pin: str) -> TrustSettings:
    # A fleet shares a handful of CA bundles; building (and validating) one TrustSettings per bundle, not per
    # appliance, keeps a 10,000-appliance sweep from re-checking the same PEM 10,000 times.
    return TrustSettings(ca_pem=ca_pem or None, pin=pin or None)


def probe_credentials(appliance) -> Credentials | None:
    """The least-privileged account the appliance has for probing: its read-only one when recorded."""
    if appliance.probe_client_id and appliance.probe_client_secret:
        return Credentials(appliance.probe_client_id, appliance.probe_client_secret)
    if appliance.client_id and appliance.client_secret:
        return Credentials(appliance.client_id, appliance.client_secret)
    return None


def probing_client(appliance, *, purpose: ClientPurpose = ClientPurpose.PROBE) -> ApplianceClient:
    """A client with the account probing uses (``probe_credentials``); without any account only the unauthenticated
    ``/check_health`` page answers it."""
    return ApplianceClient(ApplianceAddress(appliance.management_host, appliance.management_port),
                           probe_credentials(appliance),
                           _trust(appliance.ca_bundle or "", (appliance.tls_pin or "").strip()),
                           timeouts=purpose_timeouts(purpose, appliance),
                           address_guard=outbound_guard(appliance.organization))


def probe_target(appliance) -> ProbeTarget:
    """The probe loop's form of a client (the batch driver probes many at once). Raises ValueError when the
    appliance cannot be probed (no credentials or no trust anchor)."""
    credentials = probe_credentials(appliance)
    if credentials is None:
        raise ValueError("No API credentials are configured for this appliance.")
    return ProbeTarget(
        address=ApplianceAddress(appliance.management_host, appliance.management_port),
        credentials=credentials,
        trust=_trust(appliance.ca_bundle or "", (appliance.tls_pin or "").strip()),
        timeouts=purpose_timeouts(ClientPurpose.PROBE, appliance),
        ref=appliance.pk,
        address_guard=outbound_guard(appliance.organization),
    )
