"""Claim-check storage for raw files too large to travel inside a message.

The bytes live under ``newsflow:blob:<receipt>`` with a TTL so that an abandoned submission cannot
fill Redis; a dead-lettered message's blob is made persistent so that it can still be replayed.
"""

from __future__ import annotations

import redis

from shared.keys import blob_key


def put_blob(client: redis.Redis, receipt: str, data: bytes, ttl_seconds: int) -> str:
    key = blob_key(receipt)
    client.set(key, data, ex=ttl_seconds)
    return key


def get_blob(client: redis.Redis, key: str) -> bytes | None:
    value = client.get(key)
    return value if value is None or isinstance(value, bytes) else str(value).encode()


def keep_blob(client: redis.Redis, key: str) -> None:
    client.persist(key)


def drop_blob(client: redis.Redis, key: str) -> None:
    client.delete(key)
