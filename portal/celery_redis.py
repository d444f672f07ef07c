"""The Redis Celery transport: kombu's, with the one fix that keeps a worker alive across a broker restart.

Why: when the consumer loses its connection, Celery first *collects* it (``Connection.collect``: the transport is
detached, ``transport.client = None``), then closes it. Closing the default channel gives back the messages it
had received and not acknowledged yet (``restore_unacked``), which needs a Redis client, whose parameters kombu
reads from ``transport.client``: ``AttributeError: 'NoneType' object has no attribute 'hostname'``. That is no
connection error, so Celery does not retry: the worker stops with "Unrecoverable error" (bench/chaos.py saw a
probe location go silent that way after a Redis restart; docs/benchmarks.md). Here a channel keeps the
parameters of its last plain (synchronous) client and builds the client for that last restore from them; when the
broker is still away, that is a connection error, which the close ignores as it should, and the messages come
back after the visibility timeout instead.

Selected by a ``redis://`` or ``rediss://`` ``CELERY_BROKER_URL``; registered under those aliases by
``portal.celery``. tests/portal/test_broker_restart.py runs the path above against a real Redis.
"""

from __future__ import annotations

import redis
from kombu.transport import redis as kombu_redis


class Channel(kombu_redis.Channel):
    _plain_connparams: dict | None = None

    def _connparams(self, asynchronous=False):
        client = getattr(self.connection, "client", None)
        if client is None and not asynchronous:
            # Detached by Connection.collect: the close's last restore still needs a client (see the module).
            if self._plain_connparams is None:
                raise redis.exceptions.ConnectionError("the broker connection was already released")
            return dict(self._plain_connparams)
        params = super()._connparams(asynchronous=asynchronous)
        if not asynchronous:
            self._plain_connparams = dict(params)
        return params


class Transport(kombu_redis.Transport):
    Channel = Channel
