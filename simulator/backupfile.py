"""Configuration backup (`/api/backup`): a deterministic, recognisable, binary-ish ``.nsb`` file.

Layout: ``b"NSB1"`` magic, a 4-byte big-endian header length, a JSON header (appliance id,
version, build, configuration and data counters) and a pseudo-random payload derived from the
header, so two backups of the same state are byte-identical.
"""

from __future__ import annotations

import hashlib
import json
import struct

from .appliance import Appliance

MAGIC = b"NSB1"
PAYLOAD_BYTES = 16 * 1024


def build(appliance: Appliance) -> bytes:
    header = json.dumps({
        "appliance_id": appliance.guid,
        "hostname": appliance.hostname,
        "version": appliance.version,
        "build": appliance.build,
        "config": appliance.data.get("config", {}),
        "counters": {k: v for k, v in appliance.data.items() if k != "config"},
    }, sort_keys=True).encode()
    return MAGIC + struct.pack(">I", len(header)) + header + _payload(header)


def parse_header(blob: bytes) -> dict:
    if not blob.startswith(MAGIC):
        raise ValueError("not a simulator backup file")
    (length,) = struct.unpack(">I", blob[4:8])
    return json.loads(blob[8:8 + length])


def _payload(seed: bytes) -> bytes:
    # Hash chain: deterministic but incompressible-looking, like a real encrypted archive.
    out, block = bytearray(), hashlib.sha256(seed).digest()
    while len(out) < PAYLOAD_BYTES:
        out += block
        block = hashlib.sha256(block).digest()
    return bytes(out[:PAYLOAD_BYTES])
