"""Issuer relationships between certificates: who signed whom, and in which order.

Both the importer (to order an unordered bundle leaf -> root) and the warning
engine (to decide whether a chain is complete) need the same notion of
"directly issued by", so it lives here once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, rsa


def _verify_legacy_signature(child: x509.Certificate, parent: x509.Certificate) -> bool:
    """Verify signatures that ``verify_directly_issued_by`` refuses (SHA-1, MD5...).

    Old certificates still exist on appliances and we must be able to say "this is
    self-signed, and by the way its SHA-1 signature is weak" rather than wrongly
    calling it "issued by an unknown CA". Uses the documented key.verify() recipe
    with the certificate's own signature parameters.
    """
    if child.issuer != parent.subject or child.signature_hash_algorithm is None:
        return False
    key = parent.public_key()
    params = child.signature_algorithm_parameters
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(child.signature, child.tbs_certificate_bytes, params, child.signature_hash_algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(child.signature, child.tbs_certificate_bytes, params)
        else:
            return False
    except (InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError):
        return False
    return True


def is_issued_by(child: x509.Certificate, parent: x509.Certificate) -> bool:
    """True when ``parent``'s name and key directly issued ``child``."""
    try:
        child.verify_directly_issued_by(parent)
    except InvalidSignature:
        return False
    except (ValueError, TypeError, UnsupportedAlgorithm):
        # Name mismatch or an algorithm the modern API rejects: only the latter
        # deserves a second chance.
        return _verify_legacy_signature(child, parent)
    return True


def is_self_signed(cert: x509.Certificate) -> bool:
    """Issuer equals subject *and* the signature verifies with the certificate's own key."""
    return cert.issuer == cert.subject and is_issued_by(cert, cert)


def build_path(leaf: x509.Certificate, candidates: Iterable[x509.Certificate]) -> list[x509.Certificate]:
    """Issuers of ``leaf`` found in ``candidates``, nearest first, leaf excluded.

    Stops at a self-signed certificate or when no candidate issued the current
    one. Each candidate is used at most once, so loops in bad bundles terminate.
    """
    remaining = [c for c in candidates if c != leaf]
    path: list[x509.Certificate] = []
    current = leaf
    while not is_self_signed(current):
        parent = next((c for c in remaining if is_issued_by(current, c)), None)
        if parent is None:
            break
        path.append(parent)
        remaining.remove(parent)
        current = parent
    return path


def reaches_root(leaf: x509.Certificate, chain: Sequence[x509.Certificate]) -> bool:
    """True when ``leaf`` plus ``chain`` form a verified path up to a self-signed root."""
    if is_self_signed(leaf):
        return True
    path = build_path(leaf, chain)
    return bool(path) and is_self_signed(path[-1])


def find_leaf(certificates: Sequence[x509.Certificate]) -> x509.Certificate:
    """The end-entity certificate of an unordered bundle.

    A leaf is a certificate that issued none of the others; when several qualify
    (unrelated certificates in one file) the first one in file order wins, which
    matches what a human reading the file top-down would assume.
    """
    for cert in certificates:
        if not any(other != cert and is_issued_by(other, cert) for other in certificates):
            return cert
    return certificates[0]


def order_chain(leaf: x509.Certificate, others: Sequence[x509.Certificate]) -> list[x509.Certificate]:
    """``others`` ordered leaf -> root where issuance allows; unrelated ones keep file order at the end."""
    path = build_path(leaf, others)
    return path + [c for c in others if c not in path and c != leaf]
