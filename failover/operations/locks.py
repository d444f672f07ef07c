"""The per-pair lock an operation runs under.

Redis (redis-py's Lock: SET NX PX + token-checked release and extend) when ``REDIS_URL`` is set, so workers on
several hosts exclude each other; the lock expires by itself when a worker dies, which is what lets a crashed
operation be resumed. Without Redis (the embedded development setup) the Django cache's atomic ``add`` stands in.
The database constraint ``operation_one_active_per_pair`` is the second line: it refuses a second active operation.
"""

from __future__ import annotations

import contextlib
import uuid
from functools import cache

import redis
from django.conf import settings
from django.core.cache import cache as django_cache
from django.db import connection

# The TTL (settings.FAILOVER_OPERATION_LOCK_TTL) is longer than the longest appliance call made without a
# heartbeat (appliances.connect.PURPOSE_TIMEOUTS[OPERATION]); waits are polls, which extend the lock. A dead
# worker's lock is gone after it, so its operation can be resumed.


def lock_ttl() -> int:
    return int(settings.FAILOVER_OPERATION_LOCK_TTL)


@cache
def _redis() -> redis.Redis | None:
    url = settings.REDIS_URL
    return redis.Redis.from_url(url) if url else None


class LockLost(Exception):
    """This worker no longer holds the pair's lock."""


class PairLock:
    def __init__(self, pair_id: int, ttl: int | None = None) -> None:
        # The database's name is part of the key: two portals (or two test workers, each with its own database
        # and the same pair ids) sharing one Redis must not lock each other's pairs.
        self.key = f"failover:pair-lock:{connection.settings_dict['NAME']}:{pair_id}"
        self.ttl = ttl or lock_ttl()
        self.acquired = False
        client = _redis()
        self._lock = client.lock(self.key, timeout=self.ttl, blocking=False) if client is not None else None
        self._token = uuid.uuid4().hex

    def acquire(self) -> bool:
        if self._lock is not None:
            self.acquired = bool(self._lock.acquire(blocking=False))
        else:
            self.acquired = django_cache.add(self.key, self._token, self.ttl)
        return self.acquired

    def extend(self) -> None:
        """Called on every heartbeat: a live worker keeps its lock, a dead one loses it within the TTL.

        Raises ``LockLost`` when the lock expired and was taken meanwhile (this worker stalled): the caller
        must stop touching the pair at once and leave the operation to the lock's new holder."""
        if not self.acquired:
            return
        if self._lock is not None:
            try:
                self._lock.reacquire()
            except redis.exceptions.LockError as exc:
                self.acquired = False
                raise LockLost(self.key) from exc
        elif django_cache.get(self.key) != self._token:
            self.acquired = False
            raise LockLost(self.key)
        else:
            django_cache.touch(self.key, self.ttl)

    def release(self) -> None:
        if not self.acquired:
            return
        self.acquired = False
        if self._lock is not None:
            # Expired meanwhile: nothing of ours is left to release.
            with contextlib.suppress(redis.exceptions.LockError):
                self._lock.release()
        elif django_cache.get(self.key) == self._token:
            django_cache.delete(self.key)

    def __enter__(self) -> PairLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
