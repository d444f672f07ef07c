"""Fault catalogue: what a test can inject into one appliance and the hostile payloads it serves.

Faults are stored per appliance as ``{name: params}``; several may be active together.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

# name -> default parameters. Unknown parameters are rejected so typos in tests fail loudly.
FAULTS: dict[str, dict[str, Any]] = {
    "down": {},  # listening socket closed: connection refused
    "hang": {"handshake": False},  # accept and never answer (before the TLS handshake if handshake=true)
    "slow": {"ms": 1000},  # added latency before each answer
    "unhealthy": {"message": "Simulated appliance fault"},  # check_health success 0 / HTTP 500
    "partition": {"isolated": False},  # peer link cut; isolated=true also cuts connectivity test IPs
    "flapping": {"period": 0.0},  # 0: alternate per connection; >0: alternate every period seconds
    "malformed": {"mode": "truncated"},  # truncated | garbage
    "oversized": {"mb": 50},  # huge XML body streamed to the client
    "xml_bomb": {},  # billion-laughs entity expansion
    "external_entity": {},  # XXE referencing a local file
    "wrong_content_type": {},  # HTML error page as text/html
    "changed_cert": {},  # serve a certificate issued by a different CA
    # A network cut between some client source addresses (probe locations) and this appliance only: their
    # connections are reset (silent=true: held without an answer, like a dropped route). Others are served.
    "cut": {"sources": [], "silent": False},
}

# Faults that replace the body of /api/command answers.
CONTENT_FAULTS = ("malformed", "oversized", "xml_bomb", "external_entity", "wrong_content_type")
# Faults that make the appliance unreachable for its failover peer.
PEER_UNREACHABLE_FAULTS = ("down", "hang", "partition")


class FaultError(ValueError):
    pass


def validate(name: str, params: dict[str, Any] | None) -> dict[str, Any]:
    if name not in FAULTS:
        raise FaultError(f"unknown fault {name!r}; known: {', '.join(FAULTS)}")
    params = params or {}
    unknown = set(params) - set(FAULTS[name])
    if unknown:
        raise FaultError(f"fault {name!r} takes no parameter(s) {sorted(unknown)}")
    merged = {**FAULTS[name], **params}
    if name == "cut" and not (isinstance(merged["sources"], list) and all(isinstance(s, str) for s in merged["sources"])):
        raise FaultError("cut sources must be a list of client addresses")
    if name == "malformed" and merged["mode"] not in ("truncated", "garbage"):
        raise FaultError("malformed mode must be 'truncated' or 'garbage'")
    return merged


XML_BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<health_check xmlns="https://www.beyondtrust.com/namespaces/API/command"><error_message>&lol9;</error_message></health_check>
"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE health_check [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<health_check xmlns="https://www.beyondtrust.com/namespaces/API/command"><appliance id="x">&xxe;</appliance></health_check>
"""

HTML_PAGE = (b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
             b"<body><h1>Bad Gateway</h1><p>The proxy could not reach the appliance.</p></body></html>")


def malformed(body: bytes, mode: str) -> bytes:
    if mode == "garbage":
        return b"\x00\xff<<health_check>>\x13\x37 not xml at all </>" * 4
    return body[: max(1, len(body) // 2)]


async def oversized_chunks(megabytes: float) -> AsyncIterator[bytes]:
    """Stream ``megabytes`` of well-formed-looking XML without holding it in memory."""
    head = b'<?xml version="1.0" encoding="UTF-8"?>\n<health_check xmlns="https://www.beyondtrust.com/namespaces/API/command"><error_message>'
    yield head
    chunk = b"A" * 65536
    remaining = int(megabytes * 1024 * 1024)
    while remaining > 0:
        yield chunk[:remaining]
        remaining -= len(chunk)
    yield b"</error_message></health_check>\n"
