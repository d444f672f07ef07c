"""Does a certificate cover a hostname? RFC 6125 rules, as browsers apply them.

* names compare case-insensitively, ignoring a trailing dot;
* a wildcard is only a whole left-most label (``*.example.com``) and matches
  exactly one label (not ``example.com``, not ``a.b.example.com``);
* a wildcard needs at least two labels after it (``*.com`` never matches);
* an IP address only matches an IP SAN;
* the subject CN is consulted only when the certificate has no DNS/IP SANs.
"""

from __future__ import annotations

import contextlib
import ipaddress

from .parse import CertificateDetails


def _normalise(name: str) -> str:
    name = name.strip().rstrip(".").lower()
    if not name.isascii():
        with contextlib.suppress(UnicodeError):  # not IDNA-encodable: compare as given
            name = name.encode("idna").decode("ascii")  # certificates carry A-labels
    return name


def _as_ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip().strip("[]"))
    except ValueError:
        return None


def dns_name_matches(pattern: str, hostname: str) -> bool:
    pattern, hostname = _normalise(pattern), _normalise(hostname)
    if not pattern or not hostname:
        return False
    if pattern == hostname:
        return True
    pattern_labels, host_labels = pattern.split("."), hostname.split(".")
    return (
        pattern_labels[0] == "*"
        and len(pattern_labels) >= 3
        and len(pattern_labels) == len(host_labels)
        and host_labels[0] != ""
        and pattern_labels[1:] == host_labels[1:]
    )


def covers_hostname(details: CertificateDetails, hostname: str) -> bool:
    ip = _as_ip(hostname)
    if ip is not None:
        return any(_as_ip(san) == ip for san in details.ip_addresses)
    dns_names = details.dns_names
    if not dns_names and not details.ip_addresses and details.common_name:
        dns_names = (details.common_name,)
    return any(dns_name_matches(name, hostname) for name in dns_names)
