"""TLS server contexts per appliance certificate, with SNI-based certificate selection.

Contexts are built lazily and kept in an LRU cache: an SSLContext holding a loaded certificate
costs tens of kilobytes, too much to keep 10,000+ of them alive for appliances nobody talks to.
A cached context is reused across connections so TLS 1.3 session tickets issued by it stay
valid and clients can resume sessions.
"""

from __future__ import annotations

import os
import ssl
import tempfile
from collections import OrderedDict
from collections.abc import Callable

from .appliance import Appliance
from .pki import Certificate

Selector = Callable[[Appliance, str | None], Certificate]


class TlsContexts:
    def __init__(self, select: Selector, lookup: Callable[[str], Appliance], capacity: int = 12288) -> None:
        self._select = select
        self._lookup = lookup
        self._capacity = capacity
        self._cache: OrderedDict[tuple[str, str], ssl.SSLContext] = OrderedDict()

    def initial_context(self, appliance: Appliance) -> ssl.SSLContext:
        """Context used until the SNI callback runs: the certificate served without SNI."""
        return self._context(appliance, self._select(appliance, None))

    def forget(self, appliance: Appliance) -> None:
        """Drop cached contexts after the appliance's certificates changed."""
        for key in [k for k in self._cache if k[0] == appliance.address]:
            del self._cache[key]

    def _context(self, appliance: Appliance, cert: Certificate) -> ssl.SSLContext:
        key = (appliance.address, cert.fingerprint)
        context = self._cache.get(key)
        if context is not None:
            self._cache.move_to_end(key)
            return context
        context = self._build(cert)
        address = appliance.address
        context.sni_callback = lambda sslobj, server_name, _ctx: self._on_sni(address, sslobj, server_name)
        self._cache[key] = context
        if len(self._cache) > self._capacity:
            self._cache.popitem(last=False)
        return context

    def _on_sni(self, address: str, sslobj: ssl.SSLObject, server_name: str | None) -> None:
        appliance = self._lookup(address)
        wanted = self._context(appliance, self._select(appliance, server_name))
        if wanted is not sslobj.context:
            sslobj.context = wanted
        return None

    @staticmethod
    def _build(cert: Certificate) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        # load_cert_chain only reads files; the bundle lives on disk for the duration of the call.
        fd, path = tempfile.mkstemp(suffix=".pem")
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(cert.key_pem + cert.cert_pem + cert.chain_pem)
            context.load_cert_chain(path)
        finally:
            os.unlink(path)
        return context
