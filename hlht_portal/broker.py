"""The Redis transport the portal's Celery processes use: kombu's, with its crash on a lost connection worked around.

When a worker loses Redis while it holds unacknowledged messages (an acks_late task running), Celery closes the
connection, and kombu detaches the transport from it (`transport.client = None`) before the channel has restored or
acknowledged those messages; the channel then builds a new Redis client from `transport.client` and fails with
`AttributeError: 'NoneType' object has no attribute 'hostname'`, which Celery treats as unrecoverable: the worker
stops and never reconnects (kombu 5.7.0, redis-py 6.4; reproduced by tests/integration/test_worker_faults.py).
Here that moment is reported as what it is, a lost connection, which Celery and kombu already handle: the close goes
on, the consumer reconnects. The messages stay where Redis keeps them (restored after the visibility timeout if Redis
kept them); whatever Redis lost, the rows carry (beat's sweeps)."""

from __future__ import annotations

from typing import Any

from kombu.transport import redis as kombu_redis
from redis import exceptions


class Channel(kombu_redis.Channel):
    def _connparams(self, asynchronous: bool = False) -> Any:
        if self.connection.client is None:
            raise exceptions.ConnectionError("the broker connection is closed")
        return super()._connparams(asynchronous=asynchronous)  # type: ignore[misc]  # kombu ships no stubs here


class Transport(kombu_redis.Transport):
    Channel = Channel
