"""The process's Redis client for app state (dead letters, receipts, dedupe claims, blobs).

One client per process and URL: redis-py's connection pool notices a fork and reconnects in the
child, so a client made in a prefork parent is safe in its children.
"""

from __future__ import annotations

from functools import lru_cache

import redis


@lru_cache(maxsize=4)
def redis_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(
        url,
        socket_timeout=10,
        socket_connect_timeout=5,
        health_check_interval=10,
        # A command that meets a dropped connection (a Redis restart) is tried again on a fresh
        # one before the error reaches the caller.
        retry_on_error=[redis.ConnectionError, redis.TimeoutError],
    )
