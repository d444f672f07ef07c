"""Configuration backup (`/api/backup`).

Two files, one per profile:

* ``vendor``: what a real appliance hands out, an opaque ``.nsb`` archive. Nothing in it is meant to be read by
  a client; the simulator makes it deterministic, incompressible-looking bytes with no recognisable header.
* ``extended``: a recognisable file for tests of the simulator itself: ``b"NSB1"`` magic, a 4-byte big-endian
  header length, a JSON header (appliance id, version, build, configuration and data counters, options) and a
  pseudo-random payload derived from the header, so two backups of the same state are byte-identical.

Options (reference notes §4.3): the backup password (newer docs: JSON body ``{"password": ...}``) and whether
logged session data is included (the /login page's "include logged session reporting data"; as a request
parameter ``include_logged_data`` 0/1, default 1: *simulator choice*, the API's parameter is not documented).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import struct
from dataclasses import dataclass
from urllib.parse import parse_qsl

from .appliance import Appliance

MAGIC = b"NSB1"
PAYLOAD_BYTES = 16 * 1024
# Logged data makes a real backup larger; the simulator adds this much when it is included.
LOGGED_DATA_BYTES = 8 * 1024
VENDOR_BASE_BYTES = 24 * 1024


@dataclass(frozen=True)
class BackupOptions:
    password: str = ""
    include_logged_data: bool = True


def request_options(query: dict[str, str], body: bytes, content_type: str) -> BackupOptions:
    """Options from the query string, a form body or a JSON body (the documented place of the password)."""
    params: dict[str, object] = dict(query)
    if body:
        if content_type.startswith("application/json"):
            try:
                payload = json.loads(body)
            except ValueError:
                raise ValueError("The request body is not valid JSON.") from None
            if not isinstance(payload, dict):
                raise ValueError("The request body must be a JSON object.")
            params.update(payload)
        elif content_type.startswith("application/x-www-form-urlencoded"):
            params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    logged = params.get("include_logged_data", True)
    if isinstance(logged, str):
        logged = logged.strip().lower() not in ("0", "false", "no", "off")
    return BackupOptions(password=str(params.get("password") or ""), include_logged_data=bool(logged))


def _counters(appliance: Appliance, options: BackupOptions) -> dict:
    counters = {k: v for k, v in appliance.data.items() if k != "config"}
    if not options.include_logged_data:
        counters.pop("log_bytes", None)
    return counters


def build(appliance: Appliance, options: BackupOptions = BackupOptions()) -> bytes:
    header = json.dumps({
        "appliance_id": appliance.guid,
        "hostname": appliance.hostname,
        "version": appliance.version,
        "build": appliance.build,
        "config": appliance.data.get("config", {}),
        "counters": _counters(appliance, options),
        "options": {"password_protected": bool(options.password),
                    "include_logged_data": options.include_logged_data},
    }, sort_keys=True).encode()
    return MAGIC + struct.pack(">I", len(header)) + header + _payload(header, PAYLOAD_BYTES)


def build_vendor(appliance: Appliance, options: BackupOptions = BackupOptions()) -> bytes:
    seed = json.dumps([appliance.guid, appliance.version, appliance.build, appliance.data.get("config", {}),
                       _counters(appliance, options), bool(options.password)], sort_keys=True).encode()
    size = VENDOR_BASE_BYTES + (LOGGED_DATA_BYTES if options.include_logged_data else 0)
    return _payload(seed, size)


def vendor_filename(appliance: Appliance) -> str:
    # The vendor's naming is not documented; a dated .nsb file is the simulator's choice.
    return f"{appliance.hostname}-{dt.datetime.now(dt.UTC):%Y-%m-%d}.nsb"


def parse_header(blob: bytes) -> dict:
    if not blob.startswith(MAGIC):
        raise ValueError("not a simulator backup file")
    (length,) = struct.unpack(">I", blob[4:8])
    return json.loads(blob[8:8 + length])


def _payload(seed: bytes, size: int) -> bytes:
    # Hash chain: deterministic but incompressible-looking, like a real encrypted archive.
    out, block = bytearray(), hashlib.sha256(seed).digest()
    while len(out) < size:
        out += block
        block = hashlib.sha256(block).digest()
    return bytes(out[:size])
