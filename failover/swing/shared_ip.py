"""Shared IP: the site's address is configured on both members and enabled only on the primary.

The appliance itself enables the shared IP when it becomes primary and disables it when it becomes backup, so
pointing the site at a member is mostly verification: the member must be primary and have the address enabled,
and its peer must not. Where the member offers the ``x_set_shared_ips`` extension and the address is missing
from its list, it is added there (the setting is per appliance and not synchronised).
"""

from __future__ import annotations

from collections.abc import Callable

from appliances.connect import ClientPurpose, appliance_client
from appliances.drivers import ApplianceClient, ApplianceError, HealthReport

from .base import SwingConflict, SwingDriver, SwingError


def _default_client(appliance) -> ApplianceClient:
    return appliance_client(appliance, purpose=ClientPurpose.OPERATION)


class SharedIpSwing(SwingDriver):
    method = "shared_ip"

    def __init__(self, client_factory: Callable[[object], ApplianceClient] | None = None) -> None:
        self._client_factory = client_factory or _default_client

    def _health(self, appliance) -> HealthReport | None:
        try:
            return self._client_factory(appliance).check_health()
        except ApplianceError:
            return None

    @staticmethod
    def _address(pair) -> str:
        if not pair.shared_ip:
            raise SwingError(f"{pair.site_hostname} uses the shared IP method but has no shared IP set.")
        return str(pair.shared_ip)

    def point_site_at(self, pair, appliance) -> str:
        address = self._address(pair)
        client = self._client_factory(appliance)
        try:
            health = client.check_health()
        except ApplianceError as exc:
            raise SwingError(f"{appliance.name} cannot be contacted: {exc}") from exc
        if str(health.failover_role) != "primary":
            raise SwingError(f"The shared IP follows the primary role, and {appliance.name} is "
                             f"{health.failover_role}: make it primary first.")
        detail = f"{appliance.name} is primary with the shared IP {address} enabled"
        if address not in health.enabled_shared_ips:
            if not client.get_capabilities().supports("x_set_shared_ips"):
                raise SwingError(f"{appliance.name} is primary but the shared IP {address} is not among its addresses "
                                 "(Networking > IP Configuration): add it there.")
            try:
                client.set_shared_ips([*health.enabled_shared_ips, address])
                health = client.check_health()
            except ApplianceError as exc:
                raise SwingError(f"Could not add the shared IP {address} on {appliance.name}: {exc}") from exc
            if address not in health.enabled_shared_ips:
                raise SwingError(f"{appliance.name} still does not enable the shared IP {address}.")
            detail += " (added to its shared IPs)"
        peer = pair.peer_of(appliance)
        peer_health = self._health(peer)
        if peer_health is not None and address in peer_health.enabled_shared_ips:
            raise SwingConflict(f"Both {appliance.name} and {peer.name} have the shared IP {address} enabled: "
                                "an IP conflict on the network.")
        return detail + (f"; {peer.name} has it disabled." if peer_health else f"; {peer.name} does not answer.")

    def currently_serving(self, pair):
        address = self._address(pair)
        holders = []
        for member in (pair.primary, pair.backup):
            health = self._health(member)
            if health is not None and address in health.enabled_shared_ips:
                holders.append(member)
        if len(holders) == 2:
            raise SwingConflict(f"Both {holders[0].name} and {holders[1].name} have the shared IP {address} enabled.")
        return holders[0] if holders else None
