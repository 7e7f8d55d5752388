"""The process's Redis client for app state (dead letters, receipts, dedupe claims, blobs).

One client per process and URL: redis-py's connection pool notices a fork and reconnects in the
child, so a client made in a prefork parent is safe in its children.

A ``sentinel://`` URL (``shared.sentinel``) gives a client of the master its sentinels name:
each new connection asks them where the master is, so after a failover the client talks to the
new one. Connections to the old master are dropped by it (Sentinel kills its clients when it
demotes it) or answer READONLY, which redis-py turns into a reconnect.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.connection import SSLConnection
from redis.retry import Retry
from redis.sentinel import Sentinel, SentinelManagedConnection

from shared.sentinel import is_sentinel_url, parse_sentinel_url

# A command that meets a dropped connection (a Redis restart, a failover) is tried again on a
# fresh one before the error reaches the caller.
RETRY_ON = (redis.ConnectionError, redis.TimeoutError)
# Behind Sentinel, a retry first asks the sentinels for the master again (MasterConnection).
# Ten tries with jittered backoff capped at 1 s ride out a failover of a few seconds inside the
# call; with no master for longer, the call fails after about 6 s with a ConnectionError, which
# the tasks treat as transient and retry with their own backoff. Kept well below the stages'
# soft time limits, so a task waiting for a new master is never mistaken for one that hangs.
FAILOVER_RETRIES = 10
FAILOVER_BACKOFF_CAP = 1.0
FAILOVER_BACKOFF_BASE = 0.1


class MasterConnection(SentinelManagedConnection):
    """A connection to the master that asks the sentinels again whenever it reconnects.

    redis-py's own reconnects a connection that dropped in the middle of a command to the
    address it had (redis/redis-py#3874, open): after a failover, to the dead master, until the
    command's retries are spent (some 7 s, then a ConnectionError). This one finds the master
    anew, so a command caught by a failover waits for the new master instead.
    """

    def connect_check_health(
        self, check_health: bool = True, retry_socket_connect: bool = True
    ) -> None:
        # redis-py passes retry_socket_connect=True only when a command finds its socket gone
        # (send_packed_command); its own connect() (the sentinel lookup) passes False. One
        # lookup and one attempt here: the command's retries repeat them with their backoff
        # (connect() would nest its own retries inside them: minutes, not seconds).
        if not self._sock and retry_socket_connect:
            master = self.connection_pool.get_master_address()
            self.connect_to(master)  # type: ignore[no-untyped-call]  # untyped in redis-py
            return
        super().connect_check_health(
            check_health=check_health, retry_socket_connect=retry_socket_connect
        )


class MasterSSLConnection(MasterConnection, SSLConnection):
    """The same over TLS."""


@lru_cache(maxsize=4)
def redis_client(url: str) -> redis.Redis:
    return connect(
        url,
        socket_timeout=10,
        socket_connect_timeout=5,
        health_check_interval=10,
        retry_on_error=list(RETRY_ON),
    )


def connect(url: str, **options: Any) -> redis.Redis:
    """A new client for ``url`` (``redis://``, ``rediss://``, ``unix://`` or ``sentinel://``)
    with redis-py's ``options`` (timeouts and the like), for a caller that wants its own."""
    if not is_sentinel_url(url):
        return redis.Redis.from_url(url, **options)
    parsed = parse_sentinel_url(url)
    # The sentinels get the socket timeouts too: an unreachable one must not hang discovery
    # (the next one is asked instead).
    sockets = {name: value for name, value in options.items() if name.startswith("socket_")}
    sentinel = Sentinel(
        list(parsed.sentinels), sentinel_kwargs={**sockets, **parsed.sentinel_kwargs()}
    )
    master: dict[str, Any] = {
        "connection_class": MasterSSLConnection if parsed.tls else MasterConnection,
        "retry": Retry(
            ExponentialWithJitterBackoff(cap=FAILOVER_BACKOFF_CAP, base=FAILOVER_BACKOFF_BASE),
            FAILOVER_RETRIES,
        ),
        "retry_on_error": list(RETRY_ON),
        **options,
        **parsed.master_kwargs(),
    }
    client: redis.Redis = sentinel.master_for(parsed.master, **master)
    return client
