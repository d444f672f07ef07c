"""What each call does, written once as a generator and run by either driver.

An operation is a generator that *yields* ``Request`` objects, *receives* the matching ``Response`` and
finally *returns* its result (or raises a typed error). It never performs I/O itself. ``client.py`` runs
operations one request at a time on an easy handle; ``batch.py`` interleaves hundreds of them on a multi
handle. Token handling, 401 retry, status/content-type checks and parsing therefore exist exactly once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Generator
from dataclasses import dataclass, replace
from typing import Any, BinaryIO, TypeVar

from . import parsers
from .errors import ApplianceAuthError, ApplianceError, ApplianceProtocolError, ApplianceRefused
from .models import (
    STANDARD_ACTIONS,
    ApiInfo,
    ApplianceAddress,
    ApplianceListing,
    BackupDownload,
    BackupSettings,
    Capabilities,
    Credentials,
    FailoverRole,
    HealthReport,
    PlainHealth,
    RoleChangeResult,
)
from .tokens import TokenCache, cache_ttl, fetch_lock, token_cache_key
from .transport import MAX_BACKUP_BYTES, Request, Response
from .xml import XmlNode, parse_xml

T = TypeVar("T")
Operation = Generator[Request, Response, T]

XML_TYPES = ("text/xml", "application/xml")
_FILENAME = re.compile(r'filename="?([^";]+)"?')


@dataclass(frozen=True)
class Done:
    value: Any


def advance(op: Operation[Any], response: Response | None = None, error: BaseException | None = None) -> Request | Done:
    """Feed one outcome into ``op``: returns its next request, or ``Done`` with its result.

    Errors are thrown *into* the generator so ``with``/``finally`` blocks inside it (the token fetch lock)
    unwind properly; whatever it does not handle propagates to the caller.
    """
    try:
        if error is not None:
            return op.throw(error)
        return op.send(response) if response is not None else next(op)
    except StopIteration as stop:
        return Done(stop.value)


def run_sync(op: Operation[T], perform: Callable[[Request], Response]) -> T:
    step = advance(op)
    while not isinstance(step, Done):
        try:
            response = perform(step)
        except BaseException as exc:
            step = advance(op, error=exc)
        else:
            step = advance(op, response=response)
    return step.value


class Operations:
    """Request building and answer parsing for one appliance and one API account."""

    def __init__(self, address: ApplianceAddress, credentials: Credentials | None, token_cache: TokenCache) -> None:
        self.address = address
        self.credentials = credentials
        self.token_cache = token_cache
        self.token_key = token_cache_key(address, credentials.client_id) if credentials else None

    # -- authentication ---------------------------------------------------------------------------
    def _token(self) -> Operation[tuple[str, bool]]:
        """Cached bearer token, fetching one if needed. Returns (token, came_from_cache)."""
        if self.credentials is None or self.token_key is None:
            raise ApplianceAuthError("no API credentials configured for this appliance", address=str(self.address))
        cached = self.token_cache.get(self.token_key)
        if cached:
            return cached, True
        with fetch_lock(self.token_key):
            cached = self.token_cache.get(self.token_key)  # another thread may have fetched it meanwhile
            if cached:
                return cached, True
            response = yield Request(
                action="oauth2/token",
                path="/oauth2/token",
                method="POST",
                form=(("grant_type", "client_credentials"),),
                basic_auth=(self.credentials.client_id, self.credentials.client_secret),
                max_bytes=64 * 1024,
            )
            token = parsers.parse_token(response.status, response.content_type, response.body)
            ttl = cache_ttl(token.expires_in)
            if ttl > 0:
                self.token_cache.set(self.token_key, token.access_token, ttl)
            return token.access_token, False

    def authorized(self, request: Request) -> Operation[Response]:
        """Send ``request`` with a bearer token; on 401 with a cached token, drop it and retry once."""
        token, from_cache = yield from self._token()
        response = yield replace(request, bearer=token)
        if response.status == 401 and from_cache:
            # Expired early or revoked (secret regenerated, or the 30-token cap pushed it out).
            if self.token_cache.get(self.token_key) == token:
                self.token_cache.delete(self.token_key)
            token, _ = yield from self._token()
            response = yield replace(request, bearer=token)
        if response.status == 401:
            if self.token_cache.get(self.token_key) == token:
                self.token_cache.delete(self.token_key)
            raise ApplianceAuthError("access token rejected (HTTP 401) even after fetching a new one")
        return response

    # -- command API ------------------------------------------------------------------------------
    def command(self, action: str, params: dict[str, str] | None = None, *, post: bool = False) -> Operation[XmlNode]:
        """Call ``/api/command?action=...``; returns the parsed root, ``<error>`` raised as typed errors."""
        pairs = (("action", action), *((k, str(v)) for k, v in (params or {}).items()))
        request = Request(action=action, path="/api/command", method="POST" if post else "GET",
                          query=() if post else pairs, form=pairs if post else None)
        response = yield from self.authorized(request)
        return xml_answer(response, action)

    def check_health(self) -> Operation[HealthReport]:
        response = yield from self.authorized(
            Request(action="check_health", path="/api/command", query=(("action", "check_health"),))
        )
        return parsers.parse_health(xml_answer(response, "check_health"), response.elapsed_ms)

    def get_api_info(self) -> Operation[ApiInfo]:
        return parsers.parse_api_info((yield from self.command("get_api_info")))

    def get_appliances(self) -> Operation[ApplianceListing]:
        return parsers.parse_appliances((yield from self.command("get_appliances")))

    def get_capabilities(self) -> Operation[Capabilities]:
        """Which actions this appliance supports: ``x_get_capabilities`` if it answers, else the standard set.

        Only "the appliance does not know this action" falls back (an ``<error>`` answer, a non-XML or
        non-200 answer); unreachable, TLS and auth problems still raise.
        """
        try:
            root = yield from self.command("x_get_capabilities")
        except (ApplianceRefused, ApplianceProtocolError):
            return Capabilities(actions=STANDARD_ACTIONS, extensions_reported=False)
        return parsers.parse_capabilities(root)

    def get_backup_settings(self) -> Operation[BackupSettings]:
        return parsers.parse_backup_settings((yield from self.command("x_get_backup_settings", post=True)))

    def set_failover_role(self, role: FailoverRole | str, *, data_sync_first: bool = False,
                          force: bool = False) -> Operation[RoleChangeResult]:
        role = FailoverRole(role)
        if role is FailoverRole.NONE:
            raise ValueError("set_failover_role accepts primary or backup only")
        params = {"role": role.value, "data_sync_first": _flag(data_sync_first), "force": _flag(force)}
        root = yield from self.command("set_failover_role", params, post=True)
        return parsers.parse_role_change(root, role)

    def download_backup(self, sink: BinaryIO, max_bytes: int = MAX_BACKUP_BYTES, timeout: float | None = None,
                        *, password: str = "", include_logged_data: bool = True) -> Operation[BackupDownload]:
        """The documented options: a protected backup's password goes in a JSON body (reference notes §4.3);
        leaving logged data out is the /login page's option (its API parameter name is not documented)."""
        options: dict[str, Any] = {} if include_logged_data else {"include_logged_data": 0}
        if password:
            options["password"] = password
        request = Request(action="backup", path="/api/backup", sink=sink, sink_max_bytes=max_bytes,
                          total_timeout=timeout)
        if options:
            request = replace(request, method="POST", json_body=json.dumps(options))
        response = yield from self.authorized(request)
        if response.content_type in XML_TYPES or response.status != 200:
            xml_answer(response, "backup")  # raises the appliance's <error> or a status error
            raise ApplianceProtocolError("backup answered XML instead of a backup file", action="backup")
        if response.streamed_bytes == 0:
            # A text/HTML/JSON answer is kept in memory rather than written to the sink: it is a message,
            # not a backup (a third-party script saw "Invalid credentials" come back this way).
            excerpt = response.body[:200].decode("utf-8", "replace").strip()
            raise ApplianceProtocolError(
                f"backup answer is {response.content_type or 'untyped'}, not a backup file"
                + (f": {excerpt!r}" if excerpt else " (empty body)"),
                action="backup",
            )
        match = _FILENAME.search(response.headers.get("content-disposition", ""))
        return BackupDownload(
            bytes_written=response.streamed_bytes,
            content_type=response.content_type,
            filename=match.group(1) if match else None,
        )

    def plain_check_health(self) -> Operation[PlainHealth]:
        """Unauthenticated ``GET /check_health``: 200 = pass, 500 = fail, body a short message."""
        response = yield Request(action="plain check_health", path="/check_health", max_bytes=64 * 1024)
        if response.status not in (200, 500):
            raise ApplianceProtocolError(f"/check_health answered HTTP {response.status}; expected 200 or 500",
                                         action="plain check_health")
        return PlainHealth(
            passed=response.status == 200,
            status_code=response.status,
            message=response.body.decode("utf-8", "replace").strip()[:500],
        )


def xml_answer(response: Response, action: str) -> XmlNode:
    """Check status and content type of a command-API answer, parse it, and raise any ``<error>``."""
    is_xml = response.content_type in XML_TYPES
    if response.status == 403:
        detail = _error_text(response) if is_xml else ""
        raise ApplianceAuthError(f"permission denied (HTTP 403){': ' + detail if detail else ''}", action=action)
    if response.status != 200:
        if is_xml:
            root = parse_xml(response.body)
            parsers.raise_for_error(root)
        raise ApplianceProtocolError(f"unexpected HTTP status {response.status}", action=action)
    if not is_xml:
        raise ApplianceProtocolError(
            f"expected an XML answer, got content type {response.content_type or 'none'!r}", action=action
        )
    root = parse_xml(response.body)
    parsers.raise_for_error(root)
    return root


def _error_text(response: Response) -> str:
    try:
        root = parse_xml(response.body)
    except ApplianceError:
        return ""
    return root.text if root.tag == "error" else (root.text_of("error") or "")


def _flag(value: bool) -> str:
    return "1" if value else "0"

