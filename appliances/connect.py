"""Build a driver client from what the inventory records about an appliance (the one place that maps the
model's address, credentials and trust onto the framework-free driver)."""

from .drivers import ApplianceAddress, ApplianceClient, Credentials, Timeouts, TrustSettings


def client_for(
    *, host: str, port: int, client_id: str, client_secret: str, trust: TrustSettings, timeout: float = 30.0
) -> ApplianceClient:
    credentials = Credentials(client_id, client_secret) if client_id else None
    return ApplianceClient(
        ApplianceAddress(host, port), credentials, trust, timeouts=Timeouts(connect=min(timeout, 10.0), total=timeout)
    )


def appliance_client(appliance, *, timeout: float = 30.0) -> ApplianceClient:
    return client_for(
        host=appliance.management_host,
        port=appliance.management_port,
        client_id=appliance.client_id,
        client_secret=appliance.client_secret,
        trust=appliance.trust,
        timeout=timeout,
    )
