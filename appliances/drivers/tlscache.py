"""What the driver keeps between handshakes so that a fresh connection per call stays cheap.

The vendor asks for a new connection per call, so every probe handshakes. Measured with
``bench/probe_clients.py --cpu`` (2,000 appliances, client and simulator pinned to their own cores),
three things made that handshake cost more client CPU than it needs to:

* **TLS sessions were never resumed.** libcurl's session cache (per share handle, and per multi handle)
  holds a fixed 25 peers and offers no option to grow it. A fleet sweep visits thousands of appliances
  before returning to the first, so every session was evicted before it could be used. ``session_share``
  hands out one share handle per group of ``PEERS_PER_SHARE`` appliances: each group fits its cache.
* **The CA bundle was parsed for every connection.** libcurl caches the X509 store it builds from a CA
  *file* (``CURLOPT_CA_CACHE_TIMEOUT``, default 24 h, per multi handle) but never one built from
  ``CAINFO_BLOB``. ``ca_file`` writes each distinct bundle once into a private directory.
* **Key shares nobody uses.** OpenSSL 3.5+ sends an X25519MLKEM768 key share next to the X25519 one; an
  appliance without ML-KEM ignores it, but generating it costs CPU on every handshake. ``EC_CURVES`` keeps
  ML-KEM *offered* (a server that supports it asks for it with a HelloRetryRequest and gets it) while
  only X25519 gets a key share up front.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import re
import shutil
import tempfile
import threading

import pycurl

from .models import ApplianceAddress

# Sharing TLS sessions between handles is safe only because libcurl keys its session cache by the peer *and*
# the trust settings (CA file, verify flags, pinned key): a session made under one trust is never resumed under
# another. libcurl's rewritten session cache (8.12) does that; refuse to run on an older one.
MINIMUM_LIBCURL = (8, 12)


def _libcurl_version() -> tuple[int, ...]:
    return tuple(int(part) for part in pycurl.version_info()[1].split(".")[:2])


if _libcurl_version() < MINIMUM_LIBCURL:
    raise ImportError(
        f"libcurl {pycurl.version_info()[1]} is too old for the appliance driver: it needs "
        f"{'.'.join(map(str, MINIMUM_LIBCURL))} or newer (install the pycurl wheel pinned in requirements.txt)"
    )

# libcurl's cache holds 25 peers; a group of 16 appliances leaves room for the same appliance reached
# under another TLS configuration (e.g. while its trust settings change), which is a separate peer.
PEERS_PER_SHARE = 16
# Beyond this many appliances in one process, start a new generation of share handles instead of growing
# without bound (memory: ~2 sessions of a few KiB per appliance).
MAX_SHARED_PEERS = 100_000


def _openssl_version() -> tuple[int, int]:
    match = re.search(r"OpenSSL/(\d+)\.(\d+)", pycurl.version)
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


# The "*" key-share markers are OpenSSL 3.5+ syntax (the first release offering ML-KEM); older libraries
# keep their own default (X25519 first, one key share).
EC_CURVES: str | None = (
    "*X25519:X25519MLKEM768:P-256:P-384:P-521" if _openssl_version() >= (3, 5) else None
)


class _SessionShares:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_address: dict[tuple[str, int], pycurl.CurlShare] = {}
        self._current: pycurl.CurlShare | None = None
        self._members = 0

    def share_for(self, address: ApplianceAddress) -> pycurl.CurlShare:
        key = (address.host, address.port)
        with self._lock:
            share = self._by_address.get(key)
            if share is not None:
                return share
            if len(self._by_address) >= MAX_SHARED_PEERS:
                # Handles still attached to transfers stay alive through pycurl's references.
                self._by_address.clear()
                self._current = None
            if self._current is None or self._members >= PEERS_PER_SHARE:
                self._current = pycurl.CurlShare()
                self._current.setopt(pycurl.SH_SHARE, pycurl.LOCK_DATA_SSL_SESSION)
                self._members = 0
            self._members += 1
            self._by_address[key] = self._current
            return self._current


_shares = _SessionShares()


def session_share(address: ApplianceAddress) -> pycurl.CurlShare:
    """The share handle holding TLS sessions for ``address`` (process-wide, thread-safe: pycurl locks
    share handles itself)."""
    return _shares.share_for(address)


class _CaFiles:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._directory: str | None = None
        self._owner_pid = 0

    def path_for(self, ca_pem: str) -> str:
        data = ca_pem.encode()
        with self._lock:
            directory = self._ensure_directory()
            # Content-addressed: a name never changes meaning, so libcurl's cached store for a path is
            # always the store of that exact bundle.
            path = os.path.join(directory, hashlib.sha256(data).hexdigest() + ".pem")
            if not os.path.exists(path):
                fd, partial = tempfile.mkstemp(dir=directory, suffix=".tmp")  # 0600
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                os.replace(partial, path)
            return path

    def _ensure_directory(self) -> str:
        # Private (0700, ours): nobody else can swap a bundle for one trusting their own CA.
        if self._directory is None or not os.path.isdir(self._directory):
            self._directory = tempfile.mkdtemp(prefix="appliance-ca-")
            self._owner_pid = os.getpid()
        return self._directory

    def cleanup(self) -> None:
        # Only the creating process removes it. A process ending through os._exit or a signal (Celery
        # prefork children, a killed worker) leaves the directory behind: public CA certificates only.
        if self._directory and self._owner_pid == os.getpid():
            shutil.rmtree(self._directory, ignore_errors=True)


_ca_files = _CaFiles()
atexit.register(_ca_files.cleanup)


def ca_file(ca_pem: str) -> str:
    """Path of a private file holding exactly ``ca_pem``, for ``CURLOPT_CAINFO``."""
    return _ca_files.path_for(ca_pem)
