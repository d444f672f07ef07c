"""The outbound address policy: which addresses the portal may connect to on an organisation's behalf.

Appliance hosts, DNS servers and NAT devices are typed by people, and the portal connects to them from inside
the operator's network: without a policy a host of 169.254.169.254 (a cloud metadata service) or a port on the
portal's own machine was only a form away. The rule, in one place:

* an address in ``OUTBOUND_DENIED_NETWORKS`` is refused, always (link-local, cloud metadata services, multicast,
  "this network"; loopback too unless ``OUTBOUND_ALLOW_LOOPBACK``, which development and tests turn on because
  their simulated appliances live on 127.0.0.0/8);
* otherwise it must be in the organisation's allowed networks (``Organization.outbound_allowed_networks``, set by
  platform operators) or, when that is empty, in the platform's ``OUTBOUND_ALLOWED_NETWORKS``.

Checked when saved (IP literals, and ``localhost``) and again right before connecting, after resolving a name:
the connection then goes to the address that was checked (no DNS rebinding in between).
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ValidationError

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
LOOPBACK_NETWORKS = ("127.0.0.0/8", "::1/128")
# What a name that needs no DNS stands for.
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


class OutboundRefused(Exception):
    """An address the policy does not allow. The message names the address and the rule, never more."""


def parse_networks(lines) -> list[IPNetwork]:
    """CIDRs (one per line or a list); raises ValueError naming the first bad one."""
    if isinstance(lines, str):
        lines = lines.splitlines()
    networks = []
    for line in lines:
        text = line.strip()
        if text and not text.startswith("#"):
            try:
                networks.append(ipaddress.ip_network(text, strict=False))
            except ValueError:
                raise ValueError(f"“{text}” is not a network (e.g. 10.0.0.0/8 or 2001:db8::/32).") from None
    return networks


def validate_network_lines(value: str) -> None:
    try:
        parse_networks(value)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


@lru_cache(maxsize=8)
def _platform(allowed: tuple[str, ...], denied: tuple[str, ...], allow_loopback: bool):
    denied_networks = parse_networks(denied) + ([] if allow_loopback else parse_networks(LOOPBACK_NETWORKS))
    return parse_networks(allowed), denied_networks


@lru_cache(maxsize=1024)
def _own_networks(text: str) -> list[IPNetwork]:
    return parse_networks(text)


def check_ip(ip: str, organization) -> None:
    refusal = _refusal(ip, getattr(organization, "outbound_allowed_networks", "") or "",
                       tuple(settings.OUTBOUND_ALLOWED_NETWORKS), tuple(settings.OUTBOUND_DENIED_NETWORKS),
                       bool(settings.OUTBOUND_ALLOW_LOOPBACK))
    if refusal:
        raise OutboundRefused(refusal)


@lru_cache(maxsize=65536)
def _refusal(ip: str, own: str, platform_allowed: tuple[str, ...], denied: tuple[str, ...],
             allow_loopback: bool) -> str:
    # Checked before every connection (four per appliance when adopting 10,000): the answer for an address under
    # one policy is cached, keyed by the address and the policy's whole text, so a changed policy is a new key.
    address = ipaddress.ip_address(ip)
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped  # ::ffff:169.254.169.254 is 169.254.169.254
    allowed, denied_networks = _platform(platform_allowed, denied, allow_loopback)
    if own.strip():
        allowed = _own_networks(own)
    if any(address in network for network in denied_networks):
        return (f"{ip} is in a network the portal never connects to (link-local, metadata, loopback or multicast "
                "addresses).")
    if not any(address.version == network.version and address in network for network in allowed):
        return f"{ip} is outside the networks this organisation's appliances and services may use."
    return ""


def _literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


def validate_outbound_host(host: str, organization, *, field: str) -> None:
    """The check when a host is saved: an IP literal (or a local name) must be allowed. Other names are checked
    when connecting, where they are resolved (a save-time answer could change by then anyway)."""
    if not host:
        return
    literal = _literal(host)
    if literal is None and host.lower().rstrip(".") in _LOCAL_NAMES:
        literal = "127.0.0.1"
    if literal is not None:
        try:
            check_ip(literal, organization)
        except OutboundRefused as exc:
            raise ValidationError({field: str(exc)}) from None


_resolved: dict[tuple[str, int], tuple[float, list[str]]] = {}
_resolved_lock = threading.Lock()


def _resolve(host: str, port: int) -> list[str]:
    """The name's addresses, kept ``OUTBOUND_DNS_CACHE_SECONDS`` (libcurl's own DNS cache time by default): the
    policy resolves before every probe, and a probe batch must not wait on one blocking lookup per appliance.
    Failures are not kept, so a name that starts resolving is used at once."""
    key, now = (host.lower(), port), time.monotonic()
    with _resolved_lock:
        cached = _resolved.get(key)
    if cached is not None and now - cached[0] < settings.OUTBOUND_DNS_CACHE_SECONDS:
        return cached[1]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise OutboundRefused(f"{host} does not resolve ({exc}).") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    with _resolved_lock:
        if len(_resolved) > 100_000:  # a bound, not an eviction policy: names are few, appliances many
            _resolved.clear()
        _resolved[key] = (now, addresses)
    return addresses


def resolve_allowed(host: str, port: int, organization) -> str:
    """The address to connect to for ``host``: every address the name resolves to must be allowed (a name that
    also points at a metadata address is refused outright), and the first is the one to use."""
    literal = _literal(host)
    if literal is not None:
        check_ip(literal, organization)
        return literal
    addresses = _resolve(host, port)
    for address in addresses:
        check_ip(address, organization)
    if not addresses:
        raise OutboundRefused(f"{host} does not resolve.")
    return addresses[0]
