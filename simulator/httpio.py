"""Just enough HTTP/1.1 for the simulator: one request per connection, then close.

The vendor asks clients to close the connection after every call, so there is no keep-alive,
no pipelining and no chunked request bodies.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 1024 * 1024
READ_TIMEOUT = 30.0


class BadRequest(Exception):
    pass


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    @property
    def form(self) -> dict[str, str]:
        """Query parameters merged with a form-encoded body (body wins), as /api/command accepts."""
        params = dict(self.query)
        if self.body and self.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            params.update(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))
        return params

    def json(self) -> Any:
        return json.loads(self.body or b"{}")


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/xml; charset=UTF-8"
    headers: dict[str, str] = field(default_factory=dict)
    # When set, the body is streamed from this iterator instead (oversized fault).
    stream: AsyncIterator[bytes] | None = None

    @classmethod
    def json(cls, payload: Any, status: int = 200) -> Response:
        return cls(status, json.dumps(payload).encode(), "application/json")

    @classmethod
    def text(cls, text: str, status: int = 200) -> Response:
        return cls(status, text.encode(), "text/plain; charset=UTF-8")


async def read_request(reader: asyncio.StreamReader) -> Request | None:
    """Parse one request; None when the client closed before sending anything."""
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_TIMEOUT)
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            return None
        raise BadRequest("incomplete request head") from exc
    except asyncio.LimitOverrunError as exc:
        raise BadRequest("request head too large") from exc
    lines = head.decode("latin-1").split("\r\n")
    try:
        method, target, _version = lines[0].split(" ", 2)
    except ValueError as exc:
        raise BadRequest("malformed request line") from exc
    headers = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raise BadRequest("chunked request bodies are not supported")
    length = int(headers.get("content-length") or 0)
    if length > MAX_BODY_BYTES:
        raise BadRequest("request body too large")
    body = await asyncio.wait_for(reader.readexactly(length), READ_TIMEOUT) if length else b""
    url = urlsplit(target)
    return Request(method.upper(), url.path, dict(parse_qsl(url.query, keep_blank_values=True)), headers, body)


async def write_response(writer: asyncio.StreamWriter, response: Response) -> None:
    reason = HTTPStatus(response.status).phrase
    headers = {"Content-Type": response.content_type, "Connection": "close", "Cache-Control": "no-store",
               **response.headers}
    if response.stream is None:
        headers["Content-Length"] = str(len(response.body))
    head = f"HTTP/1.1 {response.status} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    if response.stream is None:
        # One write: head and body leave in the same TLS record / TCP segment.
        writer.write(head.encode("latin-1") + b"\r\n" + response.body)
    else:
        writer.write(head.encode("latin-1") + b"\r\n")
        async for chunk in response.stream:
            writer.write(chunk)
            await writer.drain()
    await writer.drain()
