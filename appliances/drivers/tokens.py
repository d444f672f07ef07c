"""OAuth2 access-token caching.

The appliance keeps at most 30 valid tokens per API account and silently invalidates the oldest when a
31st is issued, so the portal must hold *one* token per (appliance, account) and reuse it until shortly
before it expires. The cache is an interface with get/set/delete so the portal can back it with Redis and
share tokens between worker processes; ``InMemoryTokenCache`` is the process-local default.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol, runtime_checkable

from .models import ApplianceAddress

#: Forget a token this many seconds before the appliance says it expires, so a call never races expiry.
EXPIRY_MARGIN_SECONDS = 60.0


@runtime_checkable
class TokenCache(Protocol):
    def get(self, key: str) -> str | None: ...

    def set(self, key: str, token: str, ttl_seconds: float) -> None: ...

    def delete(self, key: str) -> None: ...


class InMemoryTokenCache:
    """Thread-safe process-local cache with per-entry expiry (monotonic clock)."""

    def __init__(self, clock=time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[str, float]] = {}

    def get(self, key: str) -> str | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            token, expires_at = entry
            if self._clock() >= expires_at:
                del self._entries[key]
                return None
            return token

    def set(self, key: str, token: str, ttl_seconds: float) -> None:
        with self._lock:
            self._entries[key] = (token, self._clock() + ttl_seconds)

    def delete(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def __len__(self) -> int:
        with self._lock:
            now = self._clock()
            return sum(1 for _, expires_at in self._entries.values() if expires_at > now)


_default_cache = InMemoryTokenCache()


def default_token_cache() -> InMemoryTokenCache:
    return _default_cache


def token_cache_key(address: ApplianceAddress, client_id: str) -> str:
    return f"appliance-oauth-token:{address.host}:{address.port}:{client_id}"


def cache_ttl(expires_in: float) -> float:
    """How long to keep a token the appliance says lives ``expires_in`` seconds (0 = do not cache)."""
    return max(0.0, expires_in - EXPIRY_MARGIN_SECONDS)


# One fetch at a time per cache key inside this process, so N threads that all miss the cache at once do
# not burn N of the 30 tokens. (Across processes a Redis-backed cache would add its own lock if needed.)
_fetch_locks: dict[str, threading.Lock] = {}
_fetch_locks_guard = threading.Lock()


def fetch_lock(key: str) -> threading.Lock:
    with _fetch_locks_guard:
        return _fetch_locks.setdefault(key, threading.Lock())
