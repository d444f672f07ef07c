"""DNS swing: an RFC 2136 dynamic update, signed with the pair's TSIG key, replaces the site's A (or AAAA)
record on the pair's authoritative server; the result is verified by asking that server back, with queries
signed by the same key (so the answers are authenticated too).

Clients that cached the old answer keep it for up to the record's TTL (``pair.dns_ttl``), which is why the
detail says so: the swing is done on the server at once, in the resolvers only after the TTL.
"""

from __future__ import annotations

import binascii
import ipaddress

import dns.exception
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.tsig
import dns.tsigkeyring
import dns.update

from portal.netpolicy import OutboundRefused, resolve_allowed

from .base import SwingDriver, SwingError, member_at, site_address

TIMEOUT = 5.0

_RCODE_HELP = {
    dns.rcode.NOTAUTH: "the server does not accept updates from the portal for this zone (check the TSIG key and "
                       "the zone's update policy)",
    dns.rcode.REFUSED: "the server refuses updates (check its update policy for the zone)",
    dns.rcode.NOTZONE: "the site name is not inside the zone",
    dns.rcode.SERVFAIL: "the server failed to apply the update",
}


class DnsSwing(SwingDriver):
    method = "dns_swing"

    def __init__(self, timeout: float = TIMEOUT) -> None:
        self.timeout = timeout

    # -- pieces ----------------------------------------------------------------------------------

    @staticmethod
    def _server(pair) -> tuple[str, int]:
        """The server's address, resolved and held to the outbound address policy (the query goes to it)."""
        if not pair.dns_server:
            raise SwingError(f"{pair.site_hostname} uses DNS swing but has no DNS server set.")
        try:
            return resolve_allowed(pair.dns_server, int(pair.dns_port), pair.organization), int(pair.dns_port)
        except OutboundRefused as exc:
            raise SwingError(f"Not sending to the DNS server {pair.dns_server}: {exc}") from None

    @staticmethod
    def _names(pair) -> tuple[dns.name.Name, dns.name.Name]:
        try:
            zone = dns.name.from_text(pair.dns_zone)
            site = dns.name.from_text(pair.site_hostname)
        except dns.exception.DNSException as exc:
            raise SwingError(f"Invalid DNS name: {exc}") from exc
        if not site.is_subdomain(zone):
            raise SwingError(f"{pair.site_hostname} is not inside the zone {pair.dns_zone}.")
        return zone, site

    @staticmethod
    def _tsig(pair) -> dict:
        if not pair.dns_tsig_key_name:
            return {}
        if not pair.dns_tsig_secret:
            raise SwingError("A TSIG key name is set but no TSIG secret is stored for it.")
        try:
            keyring = dns.tsigkeyring.from_text({pair.dns_tsig_key_name: (pair.dns_tsig_algorithm,
                                                                          pair.dns_tsig_secret)})
        except (binascii.Error, ValueError, dns.exception.DNSException) as exc:
            raise SwingError(f"The stored TSIG secret is not a valid base64 key ({type(exc).__name__}).") from None
        return {"keyring": keyring, "keyname": pair.dns_tsig_key_name, "keyalgorithm": pair.dns_tsig_algorithm}

    def _send(self, pair, message) -> dns.message.Message:
        host, port = self._server(pair)
        where = f"{pair.dns_server}:{pair.dns_port}"
        try:
            return dns.query.tcp(message, host, port=port, timeout=self.timeout)
        except dns.tsig.PeerBadKey as exc:
            raise SwingError(f"The DNS server at {where} does not know the TSIG key “{pair.dns_tsig_key_name}” "
                             "(BADKEY): check the key name and algorithm.") from exc
        except dns.tsig.PeerBadSignature as exc:
            raise SwingError(f"The DNS server at {where} rejected the TSIG signature (BADSIG): the stored secret "
                             f"for “{pair.dns_tsig_key_name}” does not match the server's.") from exc
        except dns.tsig.PeerBadTime as exc:
            raise SwingError(f"The DNS server at {where} rejected the TSIG time (BADTIME): check the clocks.") from exc
        except (dns.exception.Timeout, TimeoutError) as exc:
            raise SwingError(f"The DNS server at {where} did not answer within {self.timeout:g} s.") from exc
        except (dns.exception.DNSException, OSError) as exc:
            raise SwingError(f"Could not talk to the DNS server at {where}: {exc}") from exc

    def answered_addresses(self, pair) -> set[str]:
        """The A and AAAA addresses the authoritative server gives for the site name now."""
        _zone, site = self._names(pair)
        tsig = self._tsig(pair)
        found: set[str] = set()
        for rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
            query = dns.message.make_query(site, rdtype)
            if tsig:  # signed like the update: a forged answer would otherwise "verify" a swing that did not happen
                query.use_tsig(tsig["keyring"], keyname=tsig["keyname"], algorithm=tsig["keyalgorithm"])
            answer = self._send(pair, query)
            for rrset in answer.answer:
                if rrset.rdtype == rdtype:
                    found.update(rdata.address for rdata in rrset)
        return found

    # -- the interface ---------------------------------------------------------------------------

    def point_site_at(self, pair, appliance) -> str:
        zone, site = self._names(pair)
        address = site_address(appliance)
        rdtype, other = ("AAAA", "A") if ipaddress.ip_address(address).version == 6 else ("A", "AAAA")
        update = dns.update.UpdateMessage(zone, **self._tsig(pair))
        update.replace(site, int(pair.dns_ttl), rdtype, address)
        update.delete(site, other)  # a stale record of the other family would still lead to the old primary
        answer = self._send(pair, update)
        rcode = answer.rcode()
        if rcode != dns.rcode.NOERROR:
            help_text = _RCODE_HELP.get(rcode, "see the DNS server's log")
            raise SwingError(f"The DNS server at {pair.dns_server}:{pair.dns_port} answered "
                             f"{dns.rcode.to_text(rcode)} to the update of {pair.site_hostname}: {help_text}.")
        served = self.answered_addresses(pair)
        if served != {address}:
            raise SwingError(f"After the update the DNS server answers {', '.join(sorted(served)) or 'nothing'} "
                             f"for {pair.site_hostname}, not {address}.")
        return (f"{pair.site_hostname} {rdtype} {address} ({appliance.name}) on {pair.dns_server}:{pair.dns_port}; "
                f"resolvers that cached the old record follow within its TTL ({pair.dns_ttl} s).")

    def currently_serving(self, pair):
        return member_at(pair, self.answered_addresses(pair))
