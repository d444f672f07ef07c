"""The key-derivation cost of a PKCS#12 file, read before anything is decrypted.

A PKCS#12 file names its own iteration counts (the MAC's, and PBKDF2's or the legacy PKCS#12 KDF's for each
encrypted part), and the loader runs them all, for each passphrase tried: 20 million iterations kept a worker busy
for seconds. This reads the counts from the DER structure (a small walker, BER indefinite lengths included) so a
file above the cap is refused without running a single KDF round.

Only what is not encrypted can be read: a key bag nested inside an encrypted part is not seen (no common tool
writes that layout; the parts it would sit in are capped themselves).
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import KdfCostError

_PBKDF2 = bytes.fromhex("2a864886f70d01050c")  # 1.2.840.113549.1.5.12
_PKCS12_PBE_PREFIX = bytes.fromhex("2a864886f70d010c01")  # 1.2.840.113549.1.12.1.x
_MAX_DEPTH = 32
# An iteration INTEGER longer than this many bytes is above any cap anyone would set.
_MAX_INTEGER_BYTES = 8


@dataclass
class _Node:
    tag: int
    content: bytes
    children: list[_Node] | None


def _parse(data: bytes, start: int, end: int, depth: int) -> list[_Node]:
    """The TLVs between start and end; raises ValueError on anything that is not DER/BER."""
    if depth > _MAX_DEPTH:
        raise ValueError("nested too deeply")
    nodes, position = [], start
    while position < end:
        if data[position] == 0 and position + 1 < end and data[position + 1] == 0:
            break  # end-of-contents of an indefinite length
        node, position = _parse_one(data, position, end, depth)
        nodes.append(node)
    return nodes


def _parse_one(data: bytes, position: int, end: int, depth: int) -> tuple[_Node, int]:
    if position + 2 > end:
        raise ValueError("truncated")
    tag = data[position]
    if tag & 0x1F == 0x1F:
        raise ValueError("high tag numbers do not occur in PKCS#12")
    length_byte = data[position + 1]
    position += 2
    constructed = bool(tag & 0x20)
    if length_byte == 0x80:  # BER indefinite length: children up to 00 00
        if not constructed:
            raise ValueError("indefinite primitive")
        children, inner_end = _parse_indefinite(data, position, end, depth)
        return _Node(tag, b"", children), inner_end
    if length_byte & 0x80:
        count = length_byte & 0x7F
        if count == 0 or count > 4 or position + count > end:
            raise ValueError("bad length")
        length = int.from_bytes(data[position:position + count], "big")
        position += count
    else:
        length = length_byte
    if position + length > end:
        raise ValueError("truncated")
    content = data[position:position + length]
    children = _parse(data, position, position + length, depth + 1) if constructed else None
    return _Node(tag, content, children), position + length


def _parse_indefinite(data: bytes, position: int, end: int, depth: int) -> tuple[list[_Node], int]:
    children = []
    while True:
        if position + 2 > end:
            raise ValueError("unterminated indefinite length")
        if data[position] == 0 and data[position + 1] == 0:
            return children, position + 2
        node, position = _parse_one(data, position, end, depth + 1)
        children.append(node)


def _integer(node: _Node) -> int:
    if len(node.content) > _MAX_INTEGER_BYTES:
        return 2**64
    return int.from_bytes(node.content, "big", signed=True)


def _octets(node: _Node) -> bytes:
    """An OCTET STRING's bytes, constructed (BER segments) or not."""
    if node.children is None:
        return node.content
    return b"".join(_octets(child) for child in node.children)


def _iterations(node: _Node, depth: int, found: list[int]) -> None:
    if depth > _MAX_DEPTH:
        raise ValueError("nested too deeply")
    children = node.children
    if children is None:
        if node.tag == 0x04:  # OCTET STRING: PKCS#12 wraps its unencrypted parts in these
            _iterations_in(node.content, depth + 1, found)
        return
    if node.tag == 0x24:  # constructed OCTET STRING (BER)
        _iterations_in(_octets(node), depth + 1, found)
        return
    if node.tag == 0x30 and len(children) >= 2 and children[0].tag == 0x06:
        oid, parameters = children[0].content, children[1]
        if parameters.children is not None and (oid == _PBKDF2 or oid.startswith(_PKCS12_PBE_PREFIX)):
            # PBKDF2-params and pkcs-12PbeParams: the first INTEGER is the iteration count.
            counts = [child for child in parameters.children if child.tag == 0x02]
            found.append(_integer(counts[0]) if counts else 1)
    for child in children:
        _iterations(child, depth + 1, found)


def _iterations_in(data: bytes, depth: int, found: list[int]) -> None:
    try:
        nodes = _parse(data, 0, len(data), depth)
    except ValueError:
        return  # not DER inside (an encrypted blob, a name): nothing to read
    for node in nodes:
        _iterations(node, depth, found)


def kdf_iterations(data: bytes) -> list[int]:
    """Every iteration count the file declares where it can be read, the MAC's first."""
    try:
        (pfx,) = _parse(data, 0, len(data), 0)
    except ValueError:
        return []  # not PKCS#12: the loader will say what it is
    if pfx.tag != 0x30 or not pfx.children or len(pfx.children) < 2:
        return []
    found: list[int] = []
    if len(pfx.children) >= 3 and pfx.children[2].children:
        mac = [child for child in pfx.children[2].children if child.tag == 0x02]
        found.append(_integer(mac[0]) if mac else 1)
    _iterations(pfx.children[1], 1, found)
    return found


def check_kdf_cost(data: bytes, max_iterations: int) -> None:
    """Refuse a file with a count above ``max_iterations``, or more rounds in all than four such parts."""
    counts = kdf_iterations(data)
    if any(count > max_iterations for count in counts) or sum(counts) > 4 * max_iterations:
        raise KdfCostError(
            f"The file's passphrase protection asks for {max(counts):,} key-derivation iterations; at most "
            f"{max_iterations:,} are accepted. Export it again with the default settings of your tool."
        )
