"""pycurl plumbing shared by the synchronous client and the batch engine.

``Transport.configure`` turns a ``Request`` into a configured easy handle plus an ``Exchange`` that
collects the answer; ``Exchange.finish`` turns the outcome into a ``Response`` or a typed error. The
synchronous path runs one easy handle with ``perform()``; ``batch.py`` runs many through a multi handle.
Both go through exactly these two functions, so options, limits and error mapping cannot drift apart.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO
from urllib.parse import urlencode

import pycurl

from .errors import (
    ApplianceError,
    ApplianceProtocolError,
    ApplianceTimeout,
    ApplianceTLSError,
    ApplianceUnreachable,
)
from .models import ApplianceAddress, Timeouts
from .tlscache import EC_CURVES, ca_file, session_share
from .trust import TrustSettings, fingerprint_of_certinfo

MAX_XML_BYTES = 1024 * 1024
MAX_BACKUP_BYTES = 200 * 1024 * 1024
USER_AGENT = "failover-portal-driver/1"


@dataclass(frozen=True)
class Request:
    """One HTTP call, independent of how it will be performed."""

    action: str  # for error messages: "check_health", "oauth2/token", ...
    path: str
    method: str = "GET"
    query: tuple[tuple[str, str], ...] = ()
    form: tuple[tuple[str, str], ...] | None = None
    # A JSON request body (POST only), e.g. the backup password the vendor documents as {"password": ...}.
    json_body: str | None = field(default=None, repr=False)
    basic_auth: tuple[str, str] | None = field(default=None, repr=False)
    bearer: str | None = field(default=None, repr=False)
    max_bytes: int = MAX_XML_BYTES
    # Body of a 200 answer whose content type is not XML/JSON goes here instead of memory (backups).
    sink: BinaryIO | None = None
    sink_max_bytes: int = MAX_BACKUP_BYTES
    total_timeout: float | None = None  # overrides Timeouts.total (long downloads)

    @property
    def hard_limit(self) -> int:
        """Largest body this request may receive at all (the streaming cap when a sink is given)."""
        return max(self.max_bytes, self.sink_max_bytes) if self.sink is not None else self.max_bytes


@dataclass(frozen=True)
class Response:
    status: int
    content_type: str  # media type, lower case, without parameters ("" if absent)
    headers: dict[str, str]  # lower-cased names, last value wins
    body: bytes  # empty when the body went to the request's sink
    streamed_bytes: int
    elapsed_ms: float


# Answers we always keep in memory (small, and needed to report errors) even when a sink is given.
_BUFFERED_TYPES = ("text/xml", "application/xml", "application/json", "text/plain", "text/html")

_UNREACHABLE_CODES = {
    pycurl.E_COULDNT_RESOLVE_HOST,
    pycurl.E_COULDNT_CONNECT,
    pycurl.E_SEND_ERROR,
    pycurl.E_RECV_ERROR,
    pycurl.E_GOT_NOTHING,
}
_TLS_CODES = {
    pycurl.E_SSL_CONNECT_ERROR,
    pycurl.E_PEER_FAILED_VERIFICATION,
    pycurl.E_SSL_CACERT_BADFILE,
    pycurl.E_SSL_PINNEDPUBKEYNOTMATCH,
    pycurl.E_SSL_CERTPROBLEM,
    pycurl.E_SSL_CIPHER,
}
_PROTOCOL_CODES = {
    pycurl.E_FTP_WEIRD_SERVER_REPLY,  # CURLE_WEIRD_SERVER_REPLY (8); pycurl keeps the old name
    pycurl.E_PARTIAL_FILE,
    pycurl.E_BAD_CONTENT_ENCODING,
    pycurl.E_FILESIZE_EXCEEDED,
    pycurl.E_HTTP2,
}

class Exchange:
    """Collects headers and body of one transfer and enforces size limits while it streams."""

    def __init__(self, request: Request, address: ApplianceAddress, expected_fingerprint: str | None) -> None:
        self.request = request
        self.address = address
        self._expected_fingerprint = expected_fingerprint
        self._status_line = ""
        self._headers: dict[str, str] = {}
        self._chunks: list[bytes] = []
        self._received = 0
        self._streaming: bool | None = None  # decided on the first body chunk
        self._oversized_limit: int | None = None
        self._sink_error: BaseException | None = None
        self._pin_mismatch: str | None = None

    # -- libcurl callbacks ------------------------------------------------------------------------
    def on_header(self, line: bytes) -> None:
        text = line.decode("iso-8859-1").strip()
        if text.startswith("HTTP/"):
            # A new status line (e.g. after "100 Continue") starts a new header block.
            self._status_line, self._headers = text, {}
        elif ":" in text:
            name, value = text.split(":", 1)
            self._headers[name.strip().lower()] = value.strip()

    def on_write(self, chunk: bytes) -> int | None:
        if self._streaming is None:
            self._streaming = (
                self.request.sink is not None
                and self._status_code_from_line() == 200
                and self.content_type not in _BUFFERED_TYPES
            )
        limit = self.request.sink_max_bytes if self._streaming else self.request.max_bytes
        self._received += len(chunk)
        if self._received > limit:
            self._oversized_limit = limit
            return 0  # any value other than len(chunk) makes libcurl abort the transfer
        if not self._streaming:
            self._chunks.append(chunk)
            return None
        try:
            self.request.sink.write(chunk)  # type: ignore[union-attr]
        except BaseException as exc:  # the caller's file failed (disk full...): stop and re-raise later
            self._sink_error = exc
            return 0
        return None

    def on_prereq(self, curl: pycurl.Curl) -> int:
        """Runs after the TLS handshake, before the request is sent: last chance to refuse the peer."""
        try:
            actual = fingerprint_of_certinfo(curl.getinfo(pycurl.INFO_CERTINFO))
        except (ValueError, pycurl.error):  # unparsable certificate: fail closed, never raise in a callback
            actual = None
        if actual != self._expected_fingerprint:
            self._pin_mismatch = actual or "no certificate presented"
            return pycurl.PREREQFUNC_ABORT
        return pycurl.PREREQFUNC_OK

    # -- outcome ---------------------------------------------------------------------------------
    @property
    def content_type(self) -> str:
        return self._headers.get("content-type", "").split(";", 1)[0].strip().lower()

    def _status_code_from_line(self) -> int:
        parts = self._status_line.split()
        return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0

    def finish(self, curl: pycurl.Curl, error: pycurl.error | None) -> Response:
        """Turn the transfer outcome into a Response, or raise the matching typed error."""
        if self._sink_error is not None:
            raise self._sink_error  # a local I/O problem, not the appliance's fault: keep its own type
        if error is not None:
            raise self._map_error(error.args[0], error.args[1] if len(error.args) > 1 else "")
        return Response(
            status=curl.getinfo(pycurl.RESPONSE_CODE),
            content_type=self.content_type,
            headers=dict(self._headers),
            body=b"".join(self._chunks),
            streamed_bytes=self._received if self._streaming else 0,
            elapsed_ms=curl.getinfo(pycurl.TOTAL_TIME) * 1000.0,
        )

    def _map_error(self, code: int, message: str) -> ApplianceError:
        context = {"address": str(self.address), "action": self.request.action}
        if self._pin_mismatch is not None:
            return ApplianceTLSError(
                f"certificate fingerprint mismatch: expected {self._expected_fingerprint}, "
                f"got {self._pin_mismatch}; nothing was sent",
                **context,
            )
        if self._oversized_limit is not None or code == pycurl.E_FILESIZE_EXCEEDED:
            limit = self._oversized_limit or self.request.hard_limit
            return ApplianceProtocolError(f"answer larger than the {limit} byte limit; transfer aborted", **context)
        if code == pycurl.E_OPERATION_TIMEDOUT:
            return ApplianceTimeout(f"timed out ({message})", **context)
        if code in _UNREACHABLE_CODES:
            return ApplianceUnreachable(f"cannot reach appliance ({message})", **context)
        if code == pycurl.E_SSL_PINNEDPUBKEYNOTMATCH:
            return ApplianceTLSError(f"public key pin mismatch; nothing was sent ({message})", **context)
        if code in _TLS_CODES:
            return ApplianceTLSError(f"TLS verification failed ({message})", **context)
        if code in _PROTOCOL_CODES:
            return ApplianceProtocolError(f"malformed HTTP answer ({message})", **context)
        return ApplianceUnreachable(f"transfer failed (curl error {code}: {message})", **context)


#: ``guard(address) -> IP to connect to``; raises ApplianceUnreachable for an address it does not allow.
AddressGuard = Callable[[ApplianceAddress], str | None]


class Transport:
    """Everything needed to talk to one appliance over TLS: address, trust, timeouts, and an optional address
    guard (the portal's outbound address policy; the driver itself knows no policy)."""

    def __init__(
        self,
        address: ApplianceAddress,
        trust: TrustSettings,
        timeouts: Timeouts | None = None,
        *,
        share_tls_sessions: bool = True,
        address_guard: AddressGuard | None = None,
        source_address: str | None = None,
    ) -> None:
        self.address = address
        self.trust = trust
        self.timeouts = timeouts or Timeouts()
        self.address_guard = address_guard
        # The local address connections leave from (a probe location's own address); None: the system's choice.
        self.source_address = source_address or None
        # Resumed sessions carry no certificate, so a certificate-fingerprint pin needs full handshakes.
        self._share_sessions = share_tls_sessions and trust.cert_fingerprint is None

    def url(self, request: Request) -> str:
        url = self.address.base_url + request.path
        return f"{url}?{urlencode(request.query)}" if request.query else url

    def configure(self, curl: pycurl.Curl, request: Request, deadline: float | None = None) -> Exchange:
        """Set every option for ``request`` on a fresh (or reset) easy handle."""
        total = request.total_timeout or self.timeouts.total
        if deadline is not None:
            total = min(total, deadline - time.monotonic())
            if total <= 0:
                raise ApplianceTimeout("deadline passed before the call", address=str(self.address),
                                       action=request.action)
        exchange = Exchange(request, self.address, self.trust.cert_fingerprint)

        curl.setopt(pycurl.URL, self.url(request))
        if self.address_guard is not None:
            # The caller's policy decides where a name may lead, right before connecting; libcurl then connects
            # to exactly the address that was checked (no second lookup that could answer differently).
            connect_ip = self.address_guard(self.address)
            if connect_ip and connect_ip != self.address.host:
                curl.setopt(pycurl.RESOLVE, [f"{self.address.host}:{self.address.port}:{connect_ip}"])
        curl.setopt(pycurl.PROTOCOLS, pycurl.PROTO_HTTPS)  # never plain HTTP, file:, etc.
        curl.setopt(pycurl.FOLLOWLOCATION, 0)
        curl.setopt(pycurl.NOSIGNAL, 1)  # no SIGALRM-based DNS timeouts: we run in threads
        curl.setopt(pycurl.HTTP_VERSION, pycurl.CURL_HTTP_VERSION_1_1)
        # The vendor asks for one connection per call; FORBID_REUSE keeps libcurl from pooling anyway.
        curl.setopt(pycurl.FORBID_REUSE, 1)
        curl.setopt(pycurl.CONNECTTIMEOUT_MS, max(1, int(min(self.timeouts.connect, total) * 1000)))
        curl.setopt(pycurl.TIMEOUT_MS, max(1, int(total * 1000)))
        # Refuse early when Content-Length already announces too much; on_write enforces it otherwise.
        # No ACCEPT_ENCODING on purpose: compressed answers would let a small body inflate past the cap.
        curl.setopt(pycurl.MAXFILESIZE_LARGE, request.hard_limit)
        curl.setopt(pycurl.USERAGENT, USER_AGENT)
        if self.source_address:
            curl.setopt(pycurl.INTERFACE, f"host!{self.source_address}")

        headers = ["Connection: close", "Accept: text/xml, application/json;q=0.9, */*;q=0.1", "Expect:"]
        if request.json_body is not None:
            headers.append("Content-Type: application/json")
        if request.bearer:
            headers.append(f"Authorization: Bearer {request.bearer}")
        curl.setopt(pycurl.HTTPHEADER, headers)
        if request.basic_auth:
            curl.setopt(pycurl.HTTPAUTH, pycurl.HTTPAUTH_BASIC)
            curl.setopt(pycurl.USERNAME, request.basic_auth[0])
            curl.setopt(pycurl.PASSWORD, request.basic_auth[1])
        if request.method == "POST" and request.json_body is not None:
            curl.setopt(pycurl.POSTFIELDS, request.json_body)
        elif request.method == "POST":
            curl.setopt(pycurl.POSTFIELDS, urlencode(request.form or ()))
        elif request.method != "GET":
            raise ValueError(f"unsupported method {request.method}")

        self._apply_trust(curl, exchange)
        curl.setopt(pycurl.HEADERFUNCTION, exchange.on_header)
        curl.setopt(pycurl.WRITEFUNCTION, exchange.on_write)
        return exchange

    def _apply_trust(self, curl: pycurl.Curl, exchange: Exchange) -> None:
        trust = self.trust
        if trust.ca_pem:
            curl.setopt(pycurl.SSL_VERIFYPEER, 1)
            curl.setopt(pycurl.SSL_VERIFYHOST, 2)  # certificate must name the host / IP we dialled
            # A file, not CAINFO_BLOB: libcurl caches the store it builds from a file (see tlscache).
            curl.setopt(pycurl.CAINFO, ca_file(trust.ca_pem))
            curl.unsetopt(pycurl.CAPATH)  # only the given bundle, not the system store
        else:
            # Pin-only trust (factory self-signed certificate): the pin below *is* the verification,
            # checked before anything is sent. A CA chain cannot be validated because there is none.
            curl.setopt(pycurl.SSL_VERIFYPEER, 0)
            curl.setopt(pycurl.SSL_VERIFYHOST, 0)
        if trust.spki_pin:
            curl.setopt(pycurl.PINNEDPUBLICKEY, trust.spki_pin)
        if trust.cert_fingerprint:
            curl.setopt(pycurl.OPT_CERTINFO, 1)
            curl.setopt(pycurl.PREREQFUNCTION, lambda *_conn: exchange.on_prereq(curl))
        if EC_CURVES:
            curl.setopt(pycurl.SSL_EC_CURVES, EC_CURVES)
        if self._share_sessions:
            curl.setopt(pycurl.SHARE, session_share(self.address))
        else:
            curl.setopt(pycurl.SSL_SESSIONID_CACHE, 0)

    def perform(self, request: Request) -> Response:
        """Run one request synchronously on a fresh easy handle."""
        curl = pycurl.Curl()
        try:
            exchange = self.configure(curl, request)
            try:
                curl.perform()
            except pycurl.error as exc:
                return exchange.finish(curl, exc)
            return exchange.finish(curl, None)
        finally:
            curl.close()
