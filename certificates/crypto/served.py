"""Read the certificate an appliance really serves, and compare primary with backup.

This is inspection, not a secure channel: we complete a TLS handshake, read the
peer certificate and hang up without sending any application data. It must work
precisely when the certificate is broken (expired, self-signed, wrong name),
because showing that is the point.

Why ``ssl._create_unverified_context()`` rather than pycurl or a hand-tuned context:
it is the stdlib's documented opt-out (PEP 476) and the very context
``ssl.get_server_certificate`` uses internally, so no verification switch is
flipped by hand here. ``get_server_certificate`` itself cannot be used because it
always sends the connect address as SNI, and we must control SNI independently:
a chosen name, or none at all (``server_hostname=None``) to see the default
certificate that clients without SNI receive. pycurl would need the same
verification opt-out, plus an HTTP request and ``RESOLVE`` tricks to separate the
SNI name from the address.
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass

from cryptography import x509

from .errors import ServedCertificateError
from .parse import CertificateDetails, parse_certificate


def unreadable_message(host: str, port: int) -> str:
    return (f"No TLS certificate could be read from {host}:{port} (no answer, connection refused or not a TLS "
            "service).")


def fetch_served_certificate(
    host: str, port: int, *, server_name: str | None = None, timeout: float = 5
) -> CertificateDetails:
    """The leaf certificate served on ``host:port``, sending ``server_name`` as SNI, or no SNI when None.

    Note that an IP literal as ``server_name`` also sends no SNI (TLS forbids IPs in SNI).

    Raises ``ServedCertificateError`` when the endpoint is unreachable, the TLS
    handshake fails, or no certificate is presented, with one message for all of them.
    """
    context = ssl._create_unverified_context()  # noqa: S323 - inspection only, see module docstring
    try:
        with (
            socket.create_connection((host, port), timeout=timeout) as raw,
            context.wrap_socket(raw, server_hostname=server_name) as tls,
        ):
            der = tls.getpeercert(binary_form=True)
    except (OSError, ssl.SSLError) as exc:  # SSLError and TimeoutError are OSErrors; named for the reader
        # One text for a refused connection, a silent port and a non-TLS service: a check a person triggers
        # must not tell open, closed and filtered ports apart (a port-scan oracle).
        raise ServedCertificateError(unreadable_message(host, port)) from exc
    if not der:
        raise ServedCertificateError(unreadable_message(host, port))
    return parse_certificate(x509.load_der_x509_certificate(der))


@dataclass(frozen=True)
class ServedComparison:
    match: bool
    primary_fingerprint: str | None
    backup_fingerprint: str | None
    reason: str


def compare_served(primary: CertificateDetails | None, backup: CertificateDetails | None) -> ServedComparison:
    """Failover needs byte-identical certificates on both appliances; say whether they are.

    ``None`` stands for "could not be read", so a caller can pass the result of a
    failed fetch straight in and still get a displayable reason.
    """
    primary_fp = primary.fingerprint_sha256 if primary else None
    backup_fp = backup.fingerprint_sha256 if backup else None
    if primary is None or backup is None:
        missing = " and ".join(n for n, d in (("primary", primary), ("backup", backup)) if d is None)
        return ServedComparison(False, primary_fp, backup_fp, f"Could not read the certificate served by the {missing}.")
    if primary_fp == backup_fp:
        return ServedComparison(True, primary_fp, backup_fp, "Primary and backup serve the same certificate.")
    if primary.spki_sha256 == backup.spki_sha256:
        reason = ("Primary and backup serve different certificates for the same key "
                  "(probably one was renewed and not re-imported on the other).")
    else:
        reason = ("Primary and backup serve different certificates; after failover clients would reject the "
                  "backup. Export the certificate from the primary and import it on the backup.")
    return ServedComparison(False, primary_fp, backup_fp, reason)
