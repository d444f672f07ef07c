"""Network swing: moving a pair's site traffic to the member that is primary (shared IP, DNS or NAT).

``driver_for(pair)`` picks the driver of the pair's network method; every driver implements
``point_site_at(pair, appliance)`` and ``currently_serving(pair)`` (see ``base.SwingDriver``).
"""

from ..models import NetworkMethod
from .base import SwingConflict, SwingDriver, SwingError, member_at, site_address
from .dns import DnsSwing
from .nat import NatSwing
from .shared_ip import SharedIpSwing

DRIVERS: dict[str, type[SwingDriver]] = {
    NetworkMethod.SHARED_IP: SharedIpSwing, NetworkMethod.DNS_SWING: DnsSwing, NetworkMethod.NAT_SWING: NatSwing,
}


def driver_for(pair) -> SwingDriver:
    try:
        return DRIVERS[pair.network_method]()
    except KeyError:
        raise SwingError(f"Unknown network method “{pair.network_method}”.") from None


__all__ = ["SwingConflict", "SwingDriver", "SwingError", "driver_for", "member_at", "site_address"]
