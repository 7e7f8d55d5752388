"""The process's Redis client for app state (dead letters, receipts, dedupe claims, blobs).

redis-py's connection pool notices a fork and reconnects in the child, so one client per process
is safe under Celery's prefork pool.
"""

from __future__ import annotations

from functools import lru_cache

import redis

from shared.settings import load_settings


@lru_cache(maxsize=4)
def redis_client(url: str | None = None) -> redis.Redis:
    return redis.Redis.from_url(
        url or load_settings().redis_url, socket_timeout=10, socket_connect_timeout=5
    )
