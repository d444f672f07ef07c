"""Hostname coverage per RFC 6125."""

import pytest

from certificates.crypto import covers_hostname, dns_name_matches, parse_certificate
from certificates.crypto.generate import make_certificate


@pytest.mark.parametrize(
    ("pattern", "hostname", "expected"),
    [
        ("access.example.com", "access.example.com", True),
        ("Access.Example.COM", "access.example.com.", True),
        ("*.example.com", "access.example.com", True),
        ("*.example.com", "example.com", False),  # exactly one label
        ("*.example.com", "a.b.example.com", False),  # not more than one
        ("*.com", "example.com", False),  # too broad
        ("a*.example.com", "ab.example.com", False),  # partial-label wildcards are not honoured
        ("access.*.com", "access.example.com", False),  # only the left-most label
        ("*.example.com", ".example.com", False),
        ("other.example.com", "access.example.com", False),
        ("xn--bcher-kva.example", "bücher.example", True),
    ],
)
def test_dns_name_matches(pattern, hostname, expected):
    assert dns_name_matches(pattern, hostname) is expected


def test_ip_addresses_match_only_ip_sans():
    d = parse_certificate(make_certificate("10.0.0.5", dns_names=["10.0.0.6"], ip_addresses=["10.0.0.7"])
                          .certificate)
    assert covers_hostname(d, "10.0.0.7")
    assert not covers_hostname(d, "10.0.0.6")  # a DNS SAN spelled like an IP is not an IP SAN
    assert not covers_hostname(d, "10.0.0.5")  # nor is the CN


def test_common_name_is_a_fallback_only_without_sans():
    no_san = parse_certificate(make_certificate("legacy.example.com").certificate)
    assert covers_hostname(no_san, "legacy.example.com")
    with_san = parse_certificate(make_certificate("cn.example.com", dns_names=["san.example.com"]).certificate)
    assert covers_hostname(with_san, "san.example.com")
    assert not covers_hostname(with_san, "cn.example.com")
