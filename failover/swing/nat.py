"""NAT swing: the NAT device translates the site's public address:port to one member; swinging rewrites that
translation to the other member.

NAT devices have no common API, so this driver speaks a small HTTP/JSON contract, the one the simulator's NAT
device offers (docs/simulator.md, "Simulated NAT device"); a site with a different device adds a driver here:

    GET  {nat_device}/nat/{public_address}:{public_port}  -> {"target_address": ..., "target_port": ...}
    PUT  {nat_device}/nat/{public_address}:{public_port}  <- {"target_address": ..., "target_port": ...}

``pair.nat_device`` is the device's base URL (``https://nat.example.com:8443``; ``host:port`` means https).
HTTPS is verified against the system's CA store, never skipped. The URL is operator input and the portal calls
it from inside the network, so the call goes straight to that host: no proxy from the environment, no redirect
followed, and no part of the device's error answers is echoed back (only the status code).
"""

from __future__ import annotations

import ipaddress
import json
import ssl
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from portal.netpolicy import OutboundRefused, resolve_allowed

from .base import SwingDriver, SwingError, member_at, site_address

TIMEOUT = 5.0
MAX_ANSWER_BYTES = 64 * 1024


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect could send the portal's request (and its verdict) to a host nobody configured."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        raise urllib.error.HTTPError(req.full_url, code, "redirect refused", headers, fp)


def _opener(context: ssl.SSLContext | None) -> urllib.request.OpenerDirector:
    handlers = [urllib.request.ProxyHandler({}), _NoRedirects()]
    if context is not None:
        handlers.append(urllib.request.HTTPSHandler(context=context))
    return urllib.request.build_opener(*handlers)


class NatSwing(SwingDriver):
    method = "nat_swing"

    def __init__(self, timeout: float = TIMEOUT) -> None:
        self.timeout = timeout

    @staticmethod
    def _url(pair) -> str:
        if not pair.nat_device:
            raise SwingError(f"{pair.site_hostname} uses NAT swing but has no NAT device set.")
        if not pair.nat_public_address:
            raise SwingError(f"{pair.site_hostname} uses NAT swing but has no public address set.")
        base = pair.nat_device if "://" in pair.nat_device else f"https://{pair.nat_device}"
        if not base.startswith(("http://", "https://")):
            raise SwingError(f"The NAT device address “{pair.nat_device}” is not an http(s) URL.")
        public = ipaddress.ip_address(pair.nat_public_address)
        host = f"[{public}]" if public.version == 6 else str(public)
        return f"{base.rstrip('/')}/nat/{host}:{int(pair.nat_public_port)}"

    def _call(self, pair, method: str, body: dict | None = None) -> dict:
        url = self._url(pair)
        parts = urlsplit(url)
        try:
            resolve_allowed(parts.hostname or "", parts.port or 443, pair.organization)
        except OutboundRefused as exc:
            raise SwingError(f"Not calling the NAT device {pair.nat_device}: {exc}") from None
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method,  # noqa: S310 - http(s) only, checked above
                                         headers={"Content-Type": "application/json", "Accept": "application/json"})
        context = ssl.create_default_context() if url.startswith("https://") else None
        try:
            with _opener(context).open(request, timeout=self.timeout) as response:
                raw = response.read(MAX_ANSWER_BYTES + 1)
        except urllib.error.HTTPError as exc:
            what = " (a redirect, which the portal does not follow)" if 300 <= exc.code < 400 else ""
            raise SwingError(f"The NAT device answered {exc.code}{what} to {method} {url}.") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise SwingError(f"Could not reach the NAT device at {pair.nat_device}: "
                             f"{type(reason).__name__}: {getattr(reason, 'strerror', None) or reason}") from exc
        if len(raw) > MAX_ANSWER_BYTES:
            raise SwingError("The NAT device's answer is too large.")
        try:
            answer = json.loads(raw)
            target = str(ipaddress.ip_address(answer["target_address"]))
            port = int(answer["target_port"])
        except (ValueError, KeyError, TypeError) as exc:
            raise SwingError("The NAT device's answer is not a translation (target_address/target_port).") from exc
        return {"target_address": target, "target_port": port}

    def translation(self, pair) -> dict:
        return self._call(pair, "GET")

    def point_site_at(self, pair, appliance) -> str:
        target = {"target_address": site_address(appliance), "target_port": int(appliance.management_port)}
        self._call(pair, "PUT", target)
        now = self.translation(pair)
        if now != target:
            raise SwingError(f"The NAT device still translates to {now['target_address']}:{now['target_port']}, "
                             f"not {target['target_address']}:{target['target_port']}.")
        return (f"{pair.nat_public_address}:{pair.nat_public_port} now translates to "
                f"{target['target_address']}:{target['target_port']} ({appliance.name}).")

    def currently_serving(self, pair):
        return member_at(pair, {self.translation(pair)["target_address"]})
