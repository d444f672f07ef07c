"""The swing driver interface: how a pair's site traffic is pointed at one member, and how to tell which
member it reaches now. One implementation per network method (shared IP, DNS swing, NAT swing)."""

from __future__ import annotations

import ipaddress
from abc import ABC, abstractmethod

from appliances.models import AddressKind


class SwingError(Exception):
    """The traffic could not be moved or read; the message is shown to the operator as is."""


class SwingConflict(SwingError):
    """The site reaches both members at once (two primaries on the network): never acceptable."""


def site_address(appliance) -> str:
    """The IP traffic for the site should reach on this appliance: its first enabled unique address, else its
    management host when that is an IP. DNS and NAT need an address, not a name."""
    unique = [a for a in appliance.addresses.all() if a.kind == AddressKind.UNIQUE and a.enabled]
    if unique:
        return str(sorted(unique, key=lambda a: a.pk)[0].address)
    try:
        return str(ipaddress.ip_address(appliance.management_host))
    except ValueError:
        raise SwingError(
            f"No IP address is known for {appliance.name}: add its unique address in the inventory."
        ) from None


def member_at(pair, addresses: set[str]):
    """The member whose site address is among ``addresses``: None for neither, SwingConflict for both."""
    matching = [m for m in (pair.primary, pair.backup) if site_address(m) in addresses]
    if len(matching) == 2:
        raise SwingConflict(
            f"{pair.site_hostname} reaches both {matching[0].name} and {matching[1].name} "
            f"({', '.join(sorted(addresses))})."
        )
    return matching[0] if matching else None


class SwingDriver(ABC):
    """Move a pair's site traffic between its members. Implementations take the pair and appliance rows, talk
    to the network device (or the appliance), and verify what they did by reading it back."""

    method: str = ""

    @abstractmethod
    def point_site_at(self, pair, appliance) -> str:
        """Send the site's traffic to ``appliance`` and verify it; returns a detail for the operator.
        Raises SwingError when it could not, SwingConflict when both members would be reached."""

    @abstractmethod
    def currently_serving(self, pair):
        """The member the site's traffic reaches now, or None when neither (SwingConflict when both)."""
