"""Build a driver client from what the inventory records about an appliance: THE place that maps the model's
address, credentials and trust onto the framework-free driver, with the few timeouts callers choose from."""

from django.core.exceptions import ValidationError

from .drivers import ApplianceAddress, ApplianceClient, Credentials, Timeouts, TrustSettings

#: A request a worker waits for: a role change without "sync first" answers only once the swap is over. It stays
#: below the pair lock's TTL (failover.operations.locks): no single call may outlive the lock that guards it.
OPERATION_TIMEOUT = 45.0
#: Anything else a service does (certificate import, reading settings) when the caller does not choose.
DEFAULT_TIMEOUT = 30.0
#: Connecting (TCP + TLS) never needs longer than this, whatever the request's own budget.
CONNECT_TIMEOUT_CAP = 10.0


def interactive_timeout(appliance) -> float:
    """What a person waiting on a page can be made to wait for one call: the appliance's probe timeout."""
    return float(appliance.probe_timeout)


def client_for(
    *, host: str, port: int, client_id: str, client_secret: str, trust: TrustSettings, timeout: float = DEFAULT_TIMEOUT
) -> ApplianceClient:
    credentials = Credentials(client_id, client_secret) if client_id else None
    return ApplianceClient(
        ApplianceAddress(host, port), credentials, trust,
        timeouts=Timeouts(connect=min(timeout, CONNECT_TIMEOUT_CAP), total=timeout),
    )


def appliance_client(appliance, *, timeout: float = DEFAULT_TIMEOUT) -> ApplianceClient:
    """The driver client of an inventory appliance. Refuses early (a form error, not a 500) when the appliance has
    no API account, since every API call would fail anyway."""
    if not appliance.client_id or not appliance.client_secret:
        raise ValidationError(f"{appliance} has no API credentials; add them in the inventory so the portal can "
                              "reach it.")
    return client_for(
        host=appliance.management_host,
        port=appliance.management_port,
        client_id=appliance.client_id,
        client_secret=appliance.client_secret,
        trust=appliance.trust,
        timeout=timeout,
    )
